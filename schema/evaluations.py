"""The ticket evaluation: resolution times of DONE tickets, grouped in days.

`setCustomerTicketEvaluation` returns a `Customer`, so it lives with the customer mutations.
"""

from __future__ import annotations

from datetime import date

import strawberry

from models.customers import Customer as CustomerRow
from permissions.policy import SIGNED_IN
from resolvers.evaluations import MAX_EVALUATION_BUCKETS, Evaluation, Period
from schema.directive import type_policy
from schema.loaders import customer_by_id, visible_evaluation_by_customer_id, visible_evaluation_by_object_id


@strawberry.type(
    directives=type_policy(SIGNED_IN),
    description="One group of the evaluation: tickets done within fromDay..toDay whole days.",
)
class TicketEvaluationBucket:
    from_day: int = strawberry.field(description="The group's first whole day (0 = done within 24 hours).")
    to_day: int = strawberry.field(
        description="The group's last whole day, inclusive (further out for the merged last bucket)."
    )
    count: int = strawberry.field(description="How many tickets took from `fromDay` to `toDay` whole days.")


@strawberry.type(
    directives=type_policy(SIGNED_IN),
    description="How many of the evaluated tickets got one rating (1–5) when their customer confirmed them.",
)
class TicketRatingBucket:
    rating: int = strawberry.field(description="The rating, 1 (poor) to 5 (very good).")
    count: int = strawberry.field(description="Tickets with this rating.")


@strawberry.type(
    directives=type_policy(SIGNED_IN),
    description=(
        "DONE tickets of the customer's enabled ticket types, grouped by resolution time in whole days "
        "(floor(seconds / 86400) from creation to the last time set to DONE). Group k holds days "
        "k·groupSizeDays .. (k+1)·groupSizeDays − 1; buckets run from day 0 to the last non-empty group, "
        f"at most {MAX_EVALUATION_BUCKETS} of them: when the last non-empty group lies further out, "
        "the last bucket holds every group from its fromDay on (its toDay is then the end of the last non-empty group)."
    ),
)
class TicketEvaluation:
    group_size_days: int = strawberry.field(description="How many whole days one group spans (1..365).")
    total: int = strawberry.field(description="Tickets counted.")
    average_days: float | None = strawberry.field(description="Mean of the whole days; null without tickets.")
    median_days: int | None = strawberry.field(
        description="Nearest-rank median: the smallest whole-day value d such that at least half of "
        "the tickets took at most d days; null without tickets."
    )
    p90_days: int | None = strawberry.field(
        description="Nearest-rank 90th percentile: the smallest whole-day value d such that at least "
        "90 % of the tickets took at most d days; null without tickets."
    )
    buckets: list[TicketEvaluationBucket] = strawberry.field(
        description="The groups from day 0 on, empty groups in between included."
    )
    rated_count: int = strawberry.field(description="Tickets counted that their customer rated when confirming.")
    average_rating: float | None = strawberry.field(description="Mean rating 1–5 of those; null without ratings.")
    rating_buckets: list[TicketRatingBucket] = strawberry.field(
        description="How many counted tickets got each rating, 1 to 5 (all five, zeros included)."
    )
    reopened_count: int = strawberry.field(
        description="Tickets counted that were moved out of DONE at least once, by anyone (they count by "
        "their final resolution); total − reopenedCount were right the first time."
    )

    @classmethod
    def from_result(cls, result: Evaluation) -> TicketEvaluation:
        return cls(
            group_size_days=result.group_size_days,
            total=result.total,
            average_days=result.average_days,
            median_days=result.median_days,
            p90_days=result.p90_days,
            buckets=[
                TicketEvaluationBucket(from_day=b.from_day, to_day=b.to_day, count=b.count) for b in result.buckets
            ],
            rated_count=result.rated_count,
            average_rating=result.average_rating,
            rating_buckets=[TicketRatingBucket(rating=i + 1, count=n) for i, n in enumerate(result.rating_counts)],
            reopened_count=result.reopened,
        )


@strawberry.type(directives=type_policy(SIGNED_IN), description="A customer's ticket evaluation settings.")
class TicketEvaluationSettings:
    enabled: bool = strawberry.field(description="Whether the customer's users see the ticket evaluation.")
    group_size_days: int = strawberry.field(description="How many whole days one group spans (1..365).")


async def object_evaluation(
    info: strawberry.Info, object_pk: int, start: date | None, end: date | None
) -> TicketEvaluation | None:
    """`SiteObject.ticketEvaluation`: one query for all objects of the request with the same period."""
    result = await visible_evaluation_by_object_id(info).load((object_pk, Period(start, end).check()))
    return TicketEvaluation.from_result(result) if result else None


async def customer_evaluation(
    info: strawberry.Info, customer_pk: int, start: date | None, end: date | None
) -> TicketEvaluation | None:
    result = await visible_evaluation_by_customer_id(info).load((customer_pk, Period(start, end).check()))
    return TicketEvaluation.from_result(result) if result else None


async def evaluation_settings(info: strawberry.Info, customer_pk: int) -> TicketEvaluationSettings:
    row: CustomerRow = await customer_by_id(info).load(customer_pk)
    return TicketEvaluationSettings(
        enabled=row.ticket_evaluation_enabled, group_size_days=row.ticket_evaluation_group_size_days
    )

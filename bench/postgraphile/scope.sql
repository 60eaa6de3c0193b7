-- The customer user's scope as PostgreSQL row-level security, for PostGraphile (bench/postgraphile/README.md).
--
-- Run once on the benchmark's *copy* of the database (bench/postgraphile/peer.py creates the copy and runs
-- this file as a superuser); never on the product's database. It says in policies what
-- `visible_tickets(viewer)` (permissions/tickets.py) says for a customer user: the tickets on objects
-- assigned to them (of their own customer) whose type is enabled for their customer and is no absence
-- request. The viewer comes from the verified JWT's claims, which PostGraphile's pgSettings put into
-- `jwt.claims.*` for each transaction; the account check the product and the baseline make (active, of
-- the token's kind, the token's version current) is part of the same helper functions.

-- The role PostGraphile switches to for a customer user's request (pgSettings `role`). Roles belong to
-- the server, not to one database, so it is created only when missing and left for the next run.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sitedesk_bench_customer') THEN
        CREATE ROLE sitedesk_bench_customer NOLOGIN;
    END IF;
END
$$;

-- The helpers live in a schema PostGraphile does not expose (it serves `public` only).
CREATE SCHEMA bench_scope;
REVOKE ALL ON SCHEMA bench_scope FROM PUBLIC;
GRANT USAGE ON SCHEMA bench_scope TO sitedesk_bench_customer;

-- The objects assigned to the signed-in customer user, of their own customer; empty without a valid
-- viewer. SECURITY DEFINER: the role reads neither the assignments nor the accounts itself.
-- PL/pgSQL rather than SQL: its statement's plan is kept per connection, while an SQL function that
-- cannot be inlined (SECURITY DEFINER, SET) is planned again on every call; on the 20 k copy, in a warm
-- session, 0.15 ms a call against 0.9 ms, and a page calls these helpers four times, its count twice.
CREATE FUNCTION bench_scope.assigned_object_ids() RETURNS int[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
BEGIN
    RETURN (SELECT coalesce(array_agg(uo.object_id), '{}')
    FROM account a
    JOIN customer_user cu ON cu.account_id = a.id
    JOIN customer_user_object uo ON uo.customer_user_id = cu.id
    JOIN site_object so ON so.id = uo.object_id AND so.customer_id = cu.customer_id
    WHERE a.id = nullif(current_setting('jwt.claims.sub', true), '')::int
      AND a.kind = 'customer_user'
      AND a.kind = current_setting('jwt.claims.kind', true)
      AND a.is_active
      AND a.token_version = nullif(current_setting('jwt.claims.ver', true), '')::int);
END
$$;

-- The ticket types enabled for the signed-in customer user's customer, absence requests left out.
CREATE FUNCTION bench_scope.enabled_type_ids() RETURNS int[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
BEGIN
    RETURN (SELECT coalesce(array_agg(ct.ticket_type_id), '{}')
    FROM account a
    JOIN customer_user cu ON cu.account_id = a.id
    JOIN customer_ticket_type ct ON ct.customer_id = cu.customer_id
    JOIN ticket_type x ON x.id = ct.ticket_type_id AND NOT x.is_absence_request
    WHERE a.id = nullif(current_setting('jwt.claims.sub', true), '')::int
      AND a.kind = 'customer_user'
      AND a.kind = current_setting('jwt.claims.kind', true)
      AND a.is_active
      AND a.token_version = nullif(current_setting('jwt.claims.ver', true), '')::int);
END
$$;

REVOKE ALL ON FUNCTION bench_scope.assigned_object_ids(), bench_scope.enabled_type_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bench_scope.assigned_object_ids(), bench_scope.enabled_type_ids()
    TO sitedesk_bench_customer;

-- What the role may read at all; the policies below narrow the rows. Employees and accounts only as far
-- as a ticket's assignee shows them (its name).
GRANT USAGE ON SCHEMA public TO sitedesk_bench_customer;
GRANT SELECT ON ticket, site_object, ticket_type TO sitedesk_bench_customer;
GRANT SELECT (id, account_id) ON employee TO sitedesk_bench_customer;
GRANT SELECT (id, kind, name) ON account TO sitedesk_bench_customer;

ALTER TABLE ticket ENABLE ROW LEVEL SECURITY;
ALTER TABLE site_object ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticket_type ENABLE ROW LEVEL SECURITY;
ALTER TABLE employee ENABLE ROW LEVEL SECURITY;
ALTER TABLE account ENABLE ROW LEVEL SECURITY;

-- `= ANY((SELECT f())::int[])`: each sub-select is an InitPlan, evaluated once per statement, and the
-- comparison with its array can be an index condition. At 20 k tickets PostgreSQL then walks the
-- (created_at, id) index backwards for the page (filtering on both arrays) and counts from an index-only
-- scan of (object_id, ticket_type_id, created_at) (EXPLAIN ANALYZE in bench/results.md).
CREATE POLICY customer_user_tickets ON ticket FOR SELECT TO sitedesk_bench_customer
    USING (
        object_id = ANY((SELECT bench_scope.assigned_object_ids())::int[])
        AND ticket_type_id = ANY((SELECT bench_scope.enabled_type_ids())::int[])
    );

CREATE POLICY customer_user_objects ON site_object FOR SELECT TO sitedesk_bench_customer
    USING (id = ANY((SELECT bench_scope.assigned_object_ids())::int[]));

CREATE POLICY customer_user_ticket_types ON ticket_type FOR SELECT TO sitedesk_bench_customer
    USING (id = ANY((SELECT bench_scope.enabled_type_ids())::int[]));

CREATE POLICY customer_user_employees ON employee FOR SELECT TO sitedesk_bench_customer
    USING (true);

CREATE POLICY customer_user_accounts ON account FOR SELECT TO sitedesk_bench_customer
    USING (kind = 'employee' OR id = nullif(current_setting('jwt.claims.sub', true), '')::int);

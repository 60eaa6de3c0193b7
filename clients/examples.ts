// Compiled by `make check-client` (tsc --strict) together with the generated client:
// what a partner writes around the generated documents. If a documented example or a
// scalar mapping drifts, this stops compiling.
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";

import {
  InspectionsDocument,
  LoginDocument,
  TicketDetailDocument,
  type InspectionsQuery,
  type TicketDetailQuery,
} from "./generated/client/graphql";

export async function run<Result, Variables>(
  url: string,
  document: TypedDocumentNode<Result, Variables>,
  variables: Variables,
  token?: string,
): Promise<Result> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (token !== undefined) headers["Authorization"] = `Bearer ${token}`;
  const response = await fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as { data?: Result; errors?: { message: string }[] };
  if (body.errors !== undefined || body.data === undefined) {
    throw new Error(body.errors?.map((e) => e.message).join("; ") ?? "no data");
  }
  return body.data;
}

// DateTime answers are RFC 3339 strings: Date.parse reads them as they are.
export function historyTimes(data: TicketDetailQuery): number[] {
  return data.tickets.edges.flatMap(
    (edge) => edge.node.historyPage?.edges.map((entry) => Date.parse(entry.node.createdAt)) ?? [],
  );
}

// Typed form answers: the value in its own type, not the German display text.
export function exportRows(data: InspectionsQuery): Array<[string, number | boolean | string | null]> {
  return data.formSubmissions.edges.flatMap((edge) =>
    edge.node.answers.map((answer): [string, number | boolean | string | null] => {
      const date: string | null = answer.date; // "YYYY-MM-DD"
      return [answer.label, answer.number ?? answer.boolean ?? date ?? answer.choices?.join("|") ?? answer.text];
    }),
  );
}

export async function signIn(url: string): Promise<string> {
  const data = await run(url, LoginDocument, {});
  return data.login.accessToken;
}

export async function firstPages(url: string): Promise<void> {
  const token = await signIn(url);
  const detail = await run(url, TicketDetailDocument, { after: null }, token);
  historyTimes(detail);
  exportRows(await run(url, InspectionsDocument, {}, token));
}

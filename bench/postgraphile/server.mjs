// PostGraphile 5 as the benchmark's peer: a customer user's tickets from a copy of the bench database.
//
//     PEER_DATABASE_URL=postgres://…/sitedesk_bench_20000_postgraphile PEER_PORT=18733 \
//     PEER_JWT_KEYS='["…"]' NODE_ENV=production node_modules/.bin/node server.mjs
//
// PostGraphile serves the `public` schema as it finds it (the Amber preset, no plugins of ours); the
// customer user's scope is row-level security over the same tables (scope.sql). This file does what a
// PostGraphile user is told to do themselves: verify the JWT and hand its claims to PostgreSQL as
// pgSettings (https://postgraphile.org/postgraphile/5/jwt-guide). The token is the product's own, checked
// as bench/baseline.py checks it: HS256, a known key id, issuer, audience and every required claim.
// `GET /health` answers once the schema is built (the bench waits for it).

import { createHash } from "node:crypto";
import { createServer } from "node:http";

import jwt from "jsonwebtoken";
import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

const ISSUER = "sitedesk";
const AUDIENCE = "sitedesk-api";
const ALGORITHM = "HS256";
const REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "kind", "ver", "typ"];
// The role scope.sql creates; only customer users are served (the benchmark's question is theirs).
const CUSTOMER_ROLE = "sitedesk_bench_customer";

const connectionString = required("PEER_DATABASE_URL");
const port = Number(required("PEER_PORT"));
// The product's keys (SITEDESK_SECRET_KEYS), verified by key id as core/keys.py names them.
const keys = new Map(
  JSON.parse(required("PEER_JWT_KEYS")).map((key) => [
    createHash("sha256").update(key).digest("hex").slice(0, 8),
    key,
  ]),
);

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

class Unauthenticated extends Error {}

/** The verified claims of the request's bearer token; throws `Unauthenticated` for anything less. */
function claimsOf(authorization) {
  const [scheme, token] = (authorization ?? "").split(" ", 2);
  if (scheme?.toLowerCase() !== "bearer" || !token) throw new Unauthenticated("no bearer token");
  const decoded = jwt.decode(token, { complete: true });
  const key = keys.get(decoded?.header?.kid);
  if (decoded?.header?.alg !== ALGORITHM || key === undefined) throw new Unauthenticated("unknown key");
  let claims;
  try {
    claims = jwt.verify(token, key, { algorithms: [ALGORITHM], audience: AUDIENCE, issuer: ISSUER });
  } catch (error) {
    throw new Unauthenticated(error.message);
  }
  if (REQUIRED_CLAIMS.some((name) => claims[name] === undefined) || claims.typ !== "access") {
    throw new Unauthenticated("not an access token");
  }
  return claims;
}

const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({ connectionString, schemas: ["public"], poolConfig: { max: 10 } })],
  gather: { installWatchFixtures: false },
  grafserv: { graphiql: false, watch: false, graphqlPath: "/graphql" },
  grafast: {
    explain: false,
    // The claims become transaction settings the policies read (`jwt.claims.*`); the role is what makes
    // PostgreSQL apply them. A request without a valid customer user's token never reaches the
    // database: the connection's own role would see every row.
    context(requestContext) {
      const claims = claimsOf(requestContext.node?.req?.headers?.authorization);
      if (claims.kind !== "customer_user") throw new Unauthenticated("not a customer user");
      return {
        pgSettings: {
          role: CUSTOMER_ROLE,
          "jwt.claims.sub": String(claims.sub),
          "jwt.claims.kind": String(claims.kind),
          "jwt.claims.ver": String(claims.ver),
        },
      };
    },
  },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
// The plain Node adaptor's handler (no framework in between, as the baseline has only Starlette).
const graphql = serv.createHandler();
await pgl.getSchema(); // build before answering /health
const server = createServer((req, res) => {
  if (req.url === "/health") {
    res.writeHead(200, { "content-type": "text/plain" }).end("ok");
  } else {
    graphql(req, res);
  }
});
server.listen(port, "127.0.0.1");
const stop = () => server.close(() => pgl.release().then(() => process.exit(0)));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

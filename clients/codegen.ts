// GraphQL Code Generator for Sitedesk: a typed TypeScript client over `schema.graphql`
// for the operations in `generated/operations/` (the examples of README and docs/, written there by
// `make check-client`; put your own `.graphql` files there or point `documents` at them).
//
// `strictScalars` refuses any scalar without a mapping, so each custom scalar is
// mapped here to what travels on the wire (see their @specifiedBy URLs in the schema):
//   Date      "YYYY-MM-DD" (ISO 8601 calendar date)                    -> string
//   DateTime  RFC 3339, answered in UTC as "…+00:00"                   -> string
//   Upload    a file part of a multipart request (input only)          -> File | Blob
import type { CodegenConfig } from "@graphql-codegen/cli";

export const scalars = {
  Date: { input: "string", output: "string" },
  DateTime: { input: "string", output: "string" },
  Upload: { input: "File | Blob", output: "never" },
};

const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["generated/operations/**/*.graphql"],
  ignoreNoDocuments: false,
  generates: {
    "generated/client/": {
      preset: "client",
      config: {
        strictScalars: true,
        scalars,
        enumsAsTypes: true,
        useTypeImports: true,
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;

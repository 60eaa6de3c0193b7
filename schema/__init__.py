"""The GraphQL layer: thin Strawberry types, the policy directive, the assembled schema."""

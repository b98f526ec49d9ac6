"""Provider clients: one module per external API. HTTP and the provider's JSON only — never our models."""

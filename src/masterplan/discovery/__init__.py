"""Discovery: an LLM turns a project request into a domain analysis (the DiscoveryDocument)."""

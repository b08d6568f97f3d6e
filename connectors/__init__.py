"""Platform adapters: one contract and the built-in connectors over httpx."""

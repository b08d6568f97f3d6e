"""Platform adapters: one contract, built-in connectors over httpx, and local simulators."""

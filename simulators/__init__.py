"""Local, faithful stand-ins for the platform APIs, for tests, the demo and benchmarks."""

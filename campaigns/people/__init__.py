"""People who use the workspace: who they are, their role, and how they prove it."""

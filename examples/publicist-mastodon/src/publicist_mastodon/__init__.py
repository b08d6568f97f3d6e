"""A Mastodon connector for Publicist, installed as a plug-in through its entry point."""

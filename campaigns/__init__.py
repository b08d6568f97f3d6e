"""The domain: accounts, campaigns, posts and deliveries, and the rules for scheduling them."""

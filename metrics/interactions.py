"""What "interactions" means on each platform, in one place.

Interactions are the sum of the counters a platform's connector lists in
``Capabilities.interaction_counters``: for X likes, replies, reposts, quotes and bookmarks;
for Weibo attitudes, comments and reposts; for WeChat likes/"在看", shares and favourites;
for TikTok likes, comments and shares (README, "Interactions by platform"). Views never
count. A listed counter missing from one answer adds nothing, and since latest values never
go down, a post's interactions never go down either.
"""

from __future__ import annotations

from connectors.base import Capabilities, MetricCounts


def interactions(counts: MetricCounts, capabilities: Capabilities) -> int:
    return sum(counts.counter(name) or 0 for name in capabilities.interaction_counters)

"""What "interactions" means on each platform, in one place.

Interactions are the sum of the counters a platform's connector lists in
``Capabilities.interaction_counters`` (for X: likes, replies, reposts, quotes, bookmarks;
for Weibo: attitudes, comments, reposts; ...). Counters the platform does not give count 0
towards interactions, and views that are not given are reported as not available.
"""

from __future__ import annotations

from connectors.base import Capabilities, MetricCounts


def interactions(counts: MetricCounts, capabilities: Capabilities) -> int:
    return sum(counts.counter(name) or 0 for name in capabilities.interaction_counters)

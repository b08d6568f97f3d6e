"""The reference scenario (an IP office's 2021 year on social media) as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ScenarioCampaign:
    name: str
    theme: str
    accounts: list[str]
    posts: list[str] = field(default_factory=list)


TWITTER = "@IPRinCN"

_LAUNCH_TOPICS = [
    "patent examination",
    "trademark registration",
    "geographical indications",
    "IP protection",
    "innovation",
    "utility models",
    "industrial designs",
    "IP pledge financing",
    "technology transfer",
    "copyright",
    "IP services",
    "integrated circuit layouts",
]


def reference_campaigns() -> list[ScenarioCampaign]:
    """80 articles on the Twitter account in all, plus the multi-platform campaigns."""
    launch = ScenarioCampaign(
        name="@IPRinCN account launch",
        theme="The office's first overseas account",
        accounts=[TWITTER],
        posts=[
            f"IP fact #{n}: how China handles {_LAUNCH_TOPICS[n % len(_LAUNCH_TOPICS)]}. #IPRinCN"
            for n in range(1, 71)
        ],
    )
    week = ScenarioCampaign(
        name="2021 National IP Publicity Week",
        theme="Enhancing IP protection comprehensively, building the new development paradigm",
        accounts=[TWITTER, "cnipa-weibo", "cnipa-wechat", "cnipa-tiktok"],
        posts=[
            "Main event and keynote open IP Publicity Week",
            "Press conference: the year's IP protection results",
            "White paper on IP protection released today",
            "Open days in 10 cities: visit an IP office near you",
            "Online salon: IP and the new development paradigm",
        ],
    )
    better_life = ScenarioCampaign(
        name="IP Creates a Better Life",
        theme="Topic discussions on hot IP issues",
        accounts=["cnipa-tiktok", "cnipa-weibo"],
        posts=[
            "#IP Creates a Better Life# how a patent reaches your home",
            "#IP Creates a Better Life# the story behind a trademark",
            "#IP Creates a Better Life# what a geographical indication protects",
        ],
    )
    gi = ScenarioCampaign(
        name="GI Stories on the Dining Table",
        theme="Geographical indications in a short English animation",
        accounts=[TWITTER],
        posts=[f"GI Stories on the Dining Table, episode {n}" for n in range(1, 6)],
    )
    return [launch, week, better_life, gi]

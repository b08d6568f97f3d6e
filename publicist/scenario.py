"""The reference scenario (an IP office's 2021 year on social media) as plain data.

Posts carry a variant per platform where the platform needs one: Weibo's share API takes
no ``#topic#`` and wants a link on the app's safe domain, a WeChat article needs a title
and a cover picture, TikTok publishes videos, and Douyin (TikTok's Chinese counterpart, which
TikTok's API does not reach) publishes the same videos with a Chinese text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TWITTER = "twitter:@IPRinCN"
WEIBO = "weibo:cnipa"
WECHAT = "wechat:cnipa-wechat"
TIKTOK = "tiktok:cnipa-tiktok"
DOUYIN = "douyin:cnipa-douyin"
ACCOUNTS = (TWITTER, WEIBO, WECHAT, TIKTOK, DOUYIN)

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


@dataclass(frozen=True)
class ScenarioPost:
    text: str
    title: str
    weibo_text: str | None = None
    douyin_text: str | None = None
    accounts: list[str] | None = None
    """Where this post goes when not to every account of its campaign."""


@dataclass(frozen=True)
class ScenarioCampaign:
    name: str
    theme: str
    accounts: list[str]
    posts: list[ScenarioPost] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)


def _weibo(text: str, slug: str, domain: str) -> str:
    return f"{text} https://{domain}/{slug}"


def reference_campaigns(*, weibo_domain: str = "example.com") -> list[ScenarioCampaign]:
    """80 articles on the Twitter account in all, plus the multi-platform campaigns."""
    launch = ScenarioCampaign(
        name="@IPRinCN account launch",
        theme="The office's first overseas account",
        accounts=[TWITTER],
        hashtags=["#IPRinCN"],
        posts=[
            ScenarioPost(
                text=(
                    f"IP fact #{n}: how China handles "
                    f"{_LAUNCH_TOPICS[n % len(_LAUNCH_TOPICS)]}. #IPRinCN"
                ),
                title=f"IP fact #{n}",
            )
            for n in range(1, 71)
        ],
    )
    # Two of the week's events also get a TikTok video; the rest are news for the others.
    video_events = {1, 4}
    week_items = [
        ("Main event and keynote open IP Publicity Week", "知识产权宣传周主场活动开幕"),
        ("Press conference: the year's IP protection results", "新闻发布会：知识产权保护成果"),
        ("White paper on IP protection released today", "知识产权保护白皮书今日发布"),
        ("Open days in 10 cities: visit an IP office near you", "10城开放日：走进知识产权局"),
        ("Online salon: IP and the new development paradigm", "线上沙龙：知识产权与新发展格局"),
    ]
    week = ScenarioCampaign(
        name="2021 National IP Publicity Week",
        theme="Enhancing IP protection comprehensively, building the new development paradigm",
        accounts=[TWITTER, WEIBO, WECHAT, TIKTOK],
        posts=[
            ScenarioPost(
                text=english,
                title=english.split(":")[0][:32],
                weibo_text=_weibo(chinese, f"ip-week/{n}", weibo_domain),
                accounts=None if n in video_events else [TWITTER, WEIBO, WECHAT],
            )
            for n, (english, chinese) in enumerate(week_items, start=1)
        ],
    )
    life_items = [
        ("How a patent reaches your home", "专利如何走进千家万户"),
        ("The story behind a trademark", "一个商标背后的故事"),
        ("What a geographical indication protects", "地理标志保护的是什么"),
    ]
    better_life = ScenarioCampaign(
        name="IP Creates a Better Life",
        theme="Topic discussions on hot IP issues",
        accounts=[TIKTOK, DOUYIN, WEIBO],
        hashtags=["#IPCreatesABetterLife"],
        posts=[
            ScenarioPost(
                text=f"{english} #IPCreatesABetterLife",
                title=english,
                weibo_text=_weibo(f"知识产权让生活更美好：{chinese}", f"life/{n}", weibo_domain),
                douyin_text=f"{chinese} #知识产权让生活更美好",
            )
            for n, (english, chinese) in enumerate(life_items, start=1)
        ],
    )
    gi = ScenarioCampaign(
        name="GI Stories on the Dining Table",
        theme="Geographical indications in a short English animation",
        accounts=[TWITTER],
        posts=[
            ScenarioPost(
                text=f"GI Stories on the Dining Table, episode {n}", title=f"GI Stories {n}"
            )
            for n in range(1, 6)
        ],
    )
    return [launch, week, better_life, gi]

"""The reference scenario (an IP office's 2021 year on social media) as plain data.

Posts carry a variant per platform where the platform needs one: Weibo's share API takes
no ``#topic#`` and wants a link on the app's safe domain, a WeChat article needs a title
and a cover picture, TikTok publishes videos, and Douyin (TikTok's Chinese counterpart, which
TikTok's API does not reach) publishes the same videos with a Chinese text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

TWITTER = "twitter:@IPRinCN"
WEIBO = "weibo:cnipa"
WECHAT = "wechat:cnipa-wechat"
TIKTOK = "tiktok:cnipa-tiktok"
DOUYIN = "douyin:cnipa-douyin"
ACCOUNTS = (TWITTER, WEIBO, WECHAT, TIKTOK, DOUYIN)

SHANGHAI = ZoneInfo("Asia/Shanghai")
SPAN_START = datetime(2021, 4, 1, 9, 0, tzinfo=SHANGHAI)
"""The @IPRinCN account opened in April 2021: the replay starts on its first morning."""
SPAN_END = datetime(2021, 12, 31, 20, 0, tzinfo=SHANGHAI)
"""The annual report counts up to 31 December: the replay's last reading."""
PUBLISHING_TIME = time(10, 0)
FIRST_TUESDAY = date(2021, 4, 6)
WEEKS = 39
"""Tuesdays from 6 April to 28 December, the launch account's weekly publishing day."""
PUBLICITY_WEEK = date(2021, 4, 20)
"""2021 National IP Publicity Week ran 20 to 26 April; one event a day from its opening."""
BETTER_LIFE_WEEKS = (10, 19, 28)
GI_WEEKS = (22, 24, 26, 28, 30)

LAUNCH = "@IPRinCN account launch"
PUBLICITY_WEEK_NAME = "2021 National IP Publicity Week"
BETTER_LIFE = "IP Creates a Better Life"

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
        name=LAUNCH,
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
        name=PUBLICITY_WEEK_NAME,
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
        name=BETTER_LIFE,
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


def _tuesday(week: int) -> datetime:
    return datetime.combine(FIRST_TUESDAY + timedelta(weeks=week), PUBLISHING_TIME, SHANGHAI)


def publishing_times(campaign: ScenarioCampaign) -> list[datetime]:
    """When each of ``campaign``'s posts is due, over the scenario's real span (Shanghai time).

    The launch account publishes one or two articles every Tuesday from April to December
    (70 over 39 weeks, so the year's 80 on X are spread like the office's); the Publicity
    Week posts one event a day; the topic videos and the GI episodes fall on Tuesdays.
    """
    count = len(campaign.posts)
    if campaign.name == LAUNCH:
        return [_tuesday(n * WEEKS // count) for n in range(count)]
    if campaign.name == PUBLICITY_WEEK_NAME:
        start = datetime.combine(PUBLICITY_WEEK, PUBLISHING_TIME, SHANGHAI)
        return [start + timedelta(days=n) for n in range(count)]
    weeks = BETTER_LIFE_WEEKS if campaign.name == BETTER_LIFE else GI_WEEKS
    if count > len(weeks):
        raise ValueError(f"{campaign.name}: {count} posts but {len(weeks)} publishing weeks")
    return [_tuesday(week) for week in weeks[:count]]

"""The words of a period report in English (``en``) and Chinese (``zh_CN``)."""

from __future__ import annotations

_EN = {
    "title": "Period report",
    "period": "Period",
    "scope": "Scope",
    "summary": "Summary",
    "totals": "Totals",
    "published": "Posts published",
    "views": "Views",
    "likes": "Likes",
    "comments": "Comments",
    "shares": "Shares",
    "interactions": "Interactions",
    "engagement_rate": "Engagement rate",
    "coverage": "Coverage",
    "last_updated": "Latest measurement",
    "platform": "Platform",
    "platforms": "Per platform",
    "account": "Account",
    "accounts": "Per account",
    "campaign": "Campaign",
    "campaigns": "Per campaign",
    "month": "Month",
    "months": "Per month",
    "top_posts": "Top posts",
    "charts": "Charts",
    "post": "Post",
    "text": "Text",
    "url": "Link",
    "all": "all",
    "all_accounts": "all accounts",
    "not_available": "n/a",
    "views_chart": "Views per month, by platform",
    "interactions_chart": "Interactions per month, by platform",
    "no_views": "no platform gives views",
    "no_posts": "no posts published in the period",
    "notes": (
        "A period holds the posts published on its days (in each campaign's time zone); "
        "their views and interactions are everything they drew up to the latest measurement. "
        "n/a: the platform does not give the counter, or has not reported it yet; it is kept "
        "out of totals, never counted as 0. The engagement rate divides the interactions on "
        "platforms that give views by those views."
    ),
}

_ZH = {
    "title": "期间报告",
    "period": "期间",
    "scope": "范围",
    "summary": "摘要",
    "totals": "总计",
    "published": "发布数",
    "views": "浏览量",
    "likes": "点赞",
    "comments": "评论",
    "shares": "转发",
    "interactions": "互动量",
    "engagement_rate": "互动率",
    "coverage": "覆盖",
    "last_updated": "最近统计时间",
    "platform": "平台",
    "platforms": "按平台",
    "account": "账号",
    "accounts": "按账号",
    "campaign": "活动",
    "campaigns": "按活动",
    "month": "月份",
    "months": "按月",
    "top_posts": "热门内容",
    "charts": "图表",
    "post": "内容",
    "text": "正文",
    "url": "链接",
    "all": "合计",
    "all_accounts": "全部账号",
    "not_available": "不适用",
    "views_chart": "各平台每月浏览量",
    "interactions_chart": "各平台每月互动量",
    "no_views": "没有平台提供浏览量",
    "no_posts": "期间内未发布内容",
    "notes": (
        "期间包含在其日期内（按各活动所在时区）发布的内容；浏览量和互动量为这些内容截至最近一次统计"
        "的累计数。“不适用”表示平台不提供该指标或尚未报告，不计入总数，也不按0计算。"
        "互动率为提供浏览量的平台上的互动量除以其浏览量。"
    ),
}

LABELS: dict[str, dict[str, str]] = {"en": _EN, "zh_CN": _ZH}


def labels(language: str) -> dict[str, str]:
    """The words for ``language`` (English for anything else)."""
    return LABELS.get(language, _EN)

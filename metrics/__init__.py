"""Engagement: snapshots, latest values, collection planning and campaign reports."""

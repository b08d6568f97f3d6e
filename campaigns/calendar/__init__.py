"""The plan as a calendar: deliveries in a time window, and secret iCalendar feeds of it."""

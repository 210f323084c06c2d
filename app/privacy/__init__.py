"""Data protection: how long participants' details are kept, erasing them, and the audit log.

``services.py`` anonymises an event once its retention period has run out
(or by hand) and erases one person on request; ``audit.py`` records who
exported, viewed or changed personal data; ``routes.py`` holds the staff
pages and ``cli.py`` the ``flask privacy`` commands.
"""

"""What the rules announce, for the parts of the app that follow them.

A service sends a signal once its change is made, inside the caller's
transaction; a subscriber (``app/mail/``, connected in ``create_app``) writes
its own rows in that same transaction, so an email is queued exactly when the
change is committed. The rules never import how an email looks.
"""

from blinker import Namespace

_signals = Namespace()

#: sender: the Registration; ``kind``: the MessageKind the person should hear about.
registration_changed = _signals.signal("registration-changed")

#: sender: the Event; ``kind``: the MessageKind every active participant should hear about.
event_changed = _signals.signal("event-changed")

#: sender: the Site whose name or address changed; the invites that name it should follow.
site_changed = _signals.signal("site-changed")

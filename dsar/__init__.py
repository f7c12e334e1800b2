"""dsar: GDPR access, erasure and objection letters to the brokers and parties behind
political SMS, as PDF and e-mail, and the follow-up to a CNIL complaint."""

from .errors import DsarError, InputError, RegistryError, UnknownBroker
from .models import Association, Broker, Evidence, Letter, Mandate, Request, Requester

__version__ = "0.1.0"
__all__ = [
    "Association",
    "Broker",
    "DsarError",
    "Evidence",
    "InputError",
    "Letter",
    "Mandate",
    "RegistryError",
    "Request",
    "Requester",
    "UnknownBroker",
]

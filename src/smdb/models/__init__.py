"""Typed SMDB forms. Field aliases are the official variable names of the Kravspecifikation."""

from smdb.models._base import FELTER, FORM_FELTER, FeltInfo, SmdbModel
from smdb.models.afsl import Afslutning
from smdb.models.anm import Anmodning
from smdb.models.forloeb import SANERING_2019, Kontaktforloeb
from smdb.models.ivaer import Ivaerksaettelse, Stofbrug
from smdb.models.kvalhep import KvalHep
from smdb.models.legacy import LUKKET_FRA, Indskrivning, Indskrivningsforloeb, Udskrivning, Ydelse
from smdb.models.tilb import Tilbudstilknytning

__all__ = [
    "FELTER",
    "FORM_FELTER",
    "LUKKET_FRA",
    "SANERING_2019",
    "Afslutning",
    "Anmodning",
    "FeltInfo",
    "Indskrivning",
    "Indskrivningsforloeb",
    "Ivaerksaettelse",
    "Kontaktforloeb",
    "KvalHep",
    "SmdbModel",
    "Stofbrug",
    "Tilbudstilknytning",
    "Udskrivning",
    "Ydelse",
]

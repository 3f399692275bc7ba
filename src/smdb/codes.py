"""Every code list of the Kravspecifikation (§3.1-§3.3) as an Enum.

The value of each member is the official code exactly as SMDB expects it on the wire (``"01"``, ``"99"``),
and ``.label`` carries the Danish text of the specification. The codes are *not* sequential: the PDF
table pairs the i-th numbered option with the i-th code value, and each list below was transcribed
that way (e.g. Indtagelseshyppighed "Dagligt" is ``03`` while "4-6 pr. uge" is ``04``). Member names
are short Danish identifiers so that code reads like the form.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema


class Kode(StrEnum):
    """Base for all SMDB code lists: a ``str`` whose value is the code, with a Danish label."""

    label: str

    def __new__(cls, value: str, label: str) -> Self:
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.label = label
        return obj

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """Integrators generate code from the schema: give them the Danish label of every code too."""
        schema = handler.resolve_ref_schema(handler(core_schema))
        schema["x-labels"] = {m.value: m.label for m in cls}
        return schema

    @classmethod
    def describe(cls) -> str:
        """One line per code, for help texts and error messages."""
        return ", ".join(f"{m.value}={m.label}" for m in cls)


# --------------------------------------------------------------------------- §3.1 ANM
class Koen(Kode):
    """1-ANM PersonKoenKode. The spec lists Mand=01 and Kvinde=00 (not 02)."""

    MAND = ("01", "Mand")
    KVINDE = ("00", "Kvinde")


class JaNejUoplyst(Kode):
    """3-ANM, 4-ANM, 5-ANM, 8/9/10-INDS, 1/2-UDSK, 1/2-KVAL, 11-HEPC, 12B/13B/14B-HEPC."""

    JA = ("01", "Ja")
    NEJ = ("02", "Nej")
    UOPLYST = ("99", "Uoplyst")


class JaNej(Kode):
    """13-INDS PersonAfgiftesKode."""

    JA = ("01", "Ja")
    NEJ = ("02", "Nej")


# --------------------------------------------------------------------------- §3.1 IVÆR
class OenskerLaegesamtale(Kode):
    """24-IVÆR OenskerBorgerTilbudLaegesamtaleKode."""

    JA = ("01", "Ja")
    NEJ = ("02", "Nej")
    TILBUD_IKKE_GIVET = ("03", "Tilbud ikke givet")


class LaegesamtaleTidsfristAarsag(Kode):
    """29-IVÆR LaegesamtaleIkkeAfholdtAarsagTidsfristOverskredetKode (no code 05)."""

    LAEGERESSOURCE_MYNDIGHED = ("01", "Manglende lægeressource hos myndighed")
    LAEGERESSOURCE_TILBUD = ("02", "Manglende lægeressource hos anvist tilbud")
    BORGER_FORHINDRET = ("03", "Borgeren forhindret i fremmøde")
    BORGER_UDEBLEVET = ("04", "Borgeren udeblevet")
    ANDEN = ("06", "Anden")


class GarantiOverskredetAarsag(Kode):
    """4-IVÆR BehandlingGarantiOverskredetAarsagKode (options 1-8 = 01, 02, 08, 04, 09, 05, 06, 07)."""

    MANGEL_PAA_PLADS = ("01", "Mangel på ledig plads")
    PERSONALE = ("02", "Manglende personalemæssig kapacitet pga. ferie, sygdom el. lign.")
    AFBUD = ("08", "Borgeren har meldt afbud")
    UDEBLEVET = ("04", "Borgeren er udeblevet")
    OENSKER_SENERE_TID = ("09", "Borgeren ønsker tid, der ligger efter behandlingsgarantien")
    FRIT_VALG = ("05", "Borgeren, der er 18 år eller derover, har benyttet retten til frit valg")
    SAMTYKKE = (
        "06",
        "Iværksættelsen er forsinket grundet manglende samtykkeerklæring fra den unge eller den unges "
        "forældre i situationer, hvor den unge er under 18 år",
    )
    ANDEN = ("07", "Anden årsag, som uddybes ved valg")


class Screeningsvaerktoej(Kode):
    """42-IVÆR ScreeningsvaerktoejAnvendtIvaerksaetKode."""

    ASI = ("01", "ASI")
    UNGMAP = ("02", "UngMAP")
    VOKSENMAP = ("03", "VoksenMAP")
    MATE = ("04", "MATE")
    ANDET = ("05", "Andet screeningsværktøj, som uddybes ved valg")


class Behandlingsformaal(Kode):
    """6-IVÆR BehandlingFormaalKode (no code 03)."""

    OPHOER = ("01", "Ophør")
    REDUKTION = ("02", "Reduktion")
    TILBAGEFALDSFOREBYGGELSE = (
        "04",
        "Tilbagefaldsforebyggelse (stabilisering) af tilstand opnået gennem anden stofmisbrugsbehandling",
    )
    STABILISERING = ("05", "Stabilisering med henblik på at undgå negativ udvikling af nuværende stofmisbrug")


class Henvisning(Kode):
    """31-IVÆR HenvisningPaaOpfordringAfKode."""

    EGET_INITIATIV = ("01", "Borgeren har på eget initiativ valgt at gå i behandling")
    AKUTMODTAGELSE = ("02", "Akutmodtagelse, sygehus eller hospital")
    PSYKIATRISK_HOSPITAL = ("03", "Psykiatrisk hospital")
    PRAKTISERENDE_LAEGE = ("04", "Praktiserende læge")
    KRIMINALFORSORGEN = ("05", "Kriminalforsorgen")
    DOMSTOL_POLITI = ("06", "Domstol eller politi")
    ALKOHOLBEHANDLINGSSTED = ("07", "Alkoholbehandlingssted, jf. § 141 i sundhedsloven")
    STOFMISBRUGSTILBUD = ("08", "Stofmisbrugstilbud")
    FAMILIEAMBULATORIUM = ("09", "Familieambulatorium")
    KRISECENTER = ("10", "Krisecenter")
    FAMILIE = ("11", "Familie")
    VENNER = ("12", "Venner")
    ARBEJDSGIVER = ("13", "Arbejdsgiver")
    SKOLE = ("14", "Skole eller uddannelsessted")
    HERBERG = ("15", "Herberg eller forsorgshjem efter § 110 i lov om social service")
    ANDEN_FORVALTNING = ("16", "Anden kommunal forvaltning, f.eks. jobcentret")
    ANDET = ("17", "Andet")
    UOPLYST = ("99", "Uoplyst")


class Hovedindtaegtskilde(Kode):
    """7-IVÆR PersonHovedindtaegtskildeKode and 7-UDSK (løsarbejde is 13, the rest shift by one)."""

    LOEN_FAST = ("01", "Lønindkomst – fastansættelse")
    LOEN_LOESARBEJDE = ("13", "Lønindkomst – løsarbejde (kortvarige ansættelser)")
    SU = ("02", "SU")
    DAGPENGE = ("03", "Arbejdsløshedsdagpenge")
    AKTIVERING = ("04", "Aktivering/løntilskud")
    SYGEDAGPENGE = ("05", "Sygedagpenge")
    KONTANTHJAELP = ("06", "Kontanthjælp eller uddannelseshjælp")
    REVALIDERING = ("07", "Revalideringsydelse")
    PENSION = ("08", "Pension/førtidspension")
    FAMILIE_VENNER = ("09", "Fra familie, venner og lign.")
    ILLEGALE_AKTIVITETER = ("10", "Illegale aktiviteter")
    PROSTITUTION = ("11", "Prostitution")
    ANDET = ("12", "Andet")
    UOPLYST = ("99", "Uoplyst")


class Samlivssituation(Kode):
    """8-IVÆR PersonSamlivssituationKode (no code 02)."""

    ALENE = ("01", "Alene")
    MED_FAMILIE = ("03", "Med familie (forældre, plejeforældre, bedsteforældre, store søskende etc.)")
    ALENE_MED_BARN = ("04", "Alene med barn")
    MED_VENNER = ("05", "Med venner eller andre personer (ingen familierelation)")
    PARTNER_MED_BOERN = ("06", "Med partner med børn")
    PARTNER_UDEN_BOERN = ("07", "Med partner uden børn")
    ANDET = ("08", "Andet")
    UOPLYST = ("99", "Uoplyst")


class Boligsituation(Kode):
    """9-IVÆR PersonBoligsituationKode."""

    SELVSTAENDIG = ("01", "Selvstændig bolig")
    LEJET_VAERELSE = ("02", "Lejet værelse")
    FAMILIE_VENNER = ("03", "Familie/venner")
    INSTITUTION = ("08", "Institutionsophold anden institution")
    STOETTEBOLIG = ("04", "Støttebolig/fællesskab")
    FAMILIEPLEJE = ("05", "Familiepleje")
    HERBERG = ("06", "Herberg eller pensionat")
    FAENGSEL = ("07", "Fængsel")
    GADEN = ("09", "Gaden/ingen bolig")
    EFTERSKOLE = ("10", "Efterskole/højskole")
    ANDET = ("98", "Andet")
    VIL_IKKE_OPLYSE = ("99", "Borgeren vil ikke oplyse")


class Immigrant(Kode):
    """11-IVÆR PersonImmigrantKode."""

    NEJ = ("01", "Nej")
    INDVANDRER = ("02", "Indvandrer")
    FLYGTNING = ("03", "Flygtning")
    EFTERKOMMER = ("04", "Efterkommer")
    UOPLYST = ("99", "Uoplyst")


class Grundskole(Kode):
    """12-IVÆR PersonGrundskoleuddannelseKode (no code 05)."""

    GAAR_I_SKOLE = ("01", "Går i skole")
    HOEJST_7_AAR = ("02", "7 eller færre års skolegang")
    AAR_8_9 = ("03", "8-9 års skolegang")
    AAR_10_11 = ("04", "10-11 års skolegang")
    ANDET = ("06", "Andet")
    UOPLYST = ("99", "Uoplyst")


class Ungdomsuddannelse(Kode):
    """13-IVÆR PersonUngdomsuddannelseKode."""

    ERHVERVSUDDANNELSE = ("04", "Erhvervsuddannelse (f.eks. lærling, HG, EFG)")
    GYMNASIAL = ("05", "Gymnasial uddannelse (STX, HHX, HTX, HF)")
    ANDEN = ("06", "Anden uddannelse")
    INGEN = ("01", "Ingen ud over grundskole")
    UOPLYST = ("99", "Uoplyst")


class VideregaaendeUddannelse(Kode):
    """14-IVÆR PersonVideregaaendeUddannelseKode."""

    KORT = ("06", "Kort videregående uddannelse")
    MELLEMLANG = ("07", "Mellemlang videregående uddannelse")
    LANG = ("08", "Lang videregående uddannelse")
    ANDEN = ("05", "Anden uddannelse")
    INGEN = ("01", "Ingen uddannelse (undtagen grundskoleuddannelse)")
    UOPLYST = ("99", "Uoplyst")


class Indtagelseshyppighed(Kode):
    """18-IVÆR *IndtagelseshyppighedKode: "Dagligt" is 03 and "4-6 pr. uge" is 04."""

    UNDER_1_PR_UGE = ("01", "< 1 pr. uge")
    UGE_2_3 = ("02", "2-3 pr. uge")
    UGE_4_6 = ("04", "4-6 pr. uge")
    DAGLIGT = ("03", "Dagligt")
    UOPLYST = ("99", "Uoplyst")


class Indtagelsesmaade(Kode):
    """18-IVÆR *TypiskIndtagelsesmaadeKode. Which modes a substance allows is in :mod:`smdb.stoffer`."""

    INJEKTION = ("01", "Injektion")
    RYGNING = ("02", "Rygning")
    SPISER_DRIKKER = ("03", "Spiser/drikker")
    SNIFFER = ("04", "Sniffer")
    UOPLYST = ("99", "Uoplyst")


class Hovedstof(Kode):
    """20-IVÆR PersonAktueltHovedstofKode. Ordered (ordinerede) substances and alcohol are not options."""

    METADON_ILLEGAL = ("02", "Metadon (illegal)")
    HEROIN_ILLEGAL = ("08", "Heroin (illegal)")
    TRAMADOL = ("20", "Tramadol")
    OXYCODON = ("21", "Oxycodon")
    FENTANYL = ("22", "Fentanyl")
    ANDRE_OPIATER = ("07", "Andre opiater")
    BUPRENORPHIN_ILLEGAL = ("04", "Buprenorphin (illegal)")
    BENZODIAZEPINER_ILLEGAL = ("06", "Benzodiazepiner (illegal)")
    AMFETAMIN = ("11", "Amfetamin")
    METAMFETAMIN = ("17", "Metamfetamin")
    KOKAIN_PULVER = ("18", "Kokain (pulver)")
    KOKAIN_CRACK = ("19", "Kokain (crack)")
    ECSTASY = ("12", "Ecstasy og lign.")
    HALLUCINOGENER = ("14", "Hallucinogener")
    CANNABIS = ("13", "Hash/Cannabis")
    OPLOESNINGSMIDLER = ("15", "Opløsningsmidler (inhalanter)")
    ANDRE_STOFFER = ("16", "Andre stoffer")


class Injektion(Kode):
    """32-IVÆR PersonNogensindeInjiceretEllerInjicererForTidenKode (no code 02)."""

    ALDRIG = ("01", "Aldrig")
    IKKE_SENESTE_12_MDR = ("03", "Har injiceret, men ikke de seneste 12 måneder")
    SENESTE_12_MDR = ("04", "Har injiceret i løbet af de seneste 12 måneder, men ikke de seneste 30 dage")
    SENESTE_30_DAGE = ("05", "Har injiceret inden for de seneste 30 dage")
    OENSKER_IKKE_AT_SVARE = ("06", "Ønsker ikke at svare")
    UOPLYST = ("99", "Uoplyst")


class DeltVaerktoej(Kode):
    """33-IVÆR PersonNogensindeDeltEllerDelerVaerktoejForTidenKode (no code 02)."""

    ALDRIG = ("01", "Aldrig")
    IKKE_SENESTE_12_MDR = ("03", "Har delt værktøj, men ikke de seneste 12 måneder")
    SENESTE_12_MDR = ("04", "Har delt værktøj i løbet af de seneste 12 måneder, men ikke de seneste 30 dage")
    SENESTE_30_DAGE = ("05", "Har delt værktøj inden for de seneste 30 dage")
    OENSKER_IKKE_AT_SVARE = ("06", "Ønsker ikke at svare")
    UOPLYST = ("99", "Uoplyst")


class FoersteInjektionAlder(Kode):
    """22-IVÆR PersonFoersteInjektionAlderKode."""

    UNDER_15 = ("01", "< 15")
    AAR_15_19 = ("02", "15-19")
    AAR_20_24 = ("03", "20-24")
    AAR_25_29 = ("04", "25-29")
    AAR_30_34 = ("05", "30-34")
    AAR_35_39 = ("06", "35-39")
    AAR_40_PLUS = ("07", "40+")
    ALDRIG_INJICERET = ("08", "Har aldrig injiceret")
    UOPLYST = ("99", "Uoplyst")


class Testet(Kode):
    """34-IVÆR PersonNogensindeTestetHCVKode and 35-IVÆR PersonNogensindeTestetHIVKode."""

    ALDRIG = ("01", "Aldrig")
    TESTET = ("02", "Er blevet testet")
    TESTET_OVER_12_MDR = ("03", "Er blevet testet, men for mere end 12 måneder siden")
    TESTET_INDEN_12_MDR = ("04", "Er blevet testet inden for de seneste 12 måneder")
    OENSKER_IKKE_AT_SVARE = ("05", "Ønsker ikke at svare")
    UOPLYST = ("99", "Uoplyst")


class Substitutionsbehandling(Kode):
    """36-IVÆR PersonNogensindeSubstitutionsbehandlingKode."""

    ALDRIG = ("01", "Har aldrig været i substitutionsbehandling")
    HAR_VAERET = ("02", "Har været i substitutionsbehandling")
    UOPLYST = ("99", "Uoplyst")


# --------------------------------------------------------------------------- §3.1 TILB and AFSL
class Behandlingsintensitet(Kode):
    """7-TILB BehandlingIntensitetKode."""

    AMBULANT = ("01", "Ambulant behandlingsintensitet")
    DAG = ("02", "Dagbehandlingsintensitet")
    DOEGN = ("03", "Døgnbehandlingsintensitet")


class Behandlingstype(Kode):
    """8-TILB BehandlingTypeKode (options 1-7 = 01, 07, 08, 05, 03, 04, 06)."""

    METADON = ("01", "Metadon, givet efter § 142 i Sundhedsloven")
    BUPRENORPHIN_NALOXON = ("07", "Buprenorphin kombineret med naloxon, givet efter § 142 i Sundhedsloven")
    MONO_BUPRENORPHIN = ("08", "Mono-buprenorphin, givet efter § 142 i Sundhedsloven")
    HEROIN = ("05", "Heroin, givet efter § 142 i Sundhedsloven")
    ANDEN_SUBSTITUTION = ("03", "Anden substitution med opiater, givet efter § 142 i Sundhedsloven")
    STOFFRI = ("04", "Stoffri behandling, givet efter § 101 i Serviceloven (eller § 33 i Barnets Lov)")
    ANDEN_MEDICINSK = ("06", "Anden medicinsk behandling, givet efter § 142 i Sundhedsloven")

    @property
    def er_substitution(self) -> bool:
        """True for the mutually exclusive substitution types of §6.1.4 c (01, 07, 08, 05, 03)."""
        return self in SUBSTITUTIONSTYPER


SUBSTITUTIONSTYPER: frozenset[Behandlingstype] = frozenset(
    {
        Behandlingstype.METADON,
        Behandlingstype.BUPRENORPHIN_NALOXON,
        Behandlingstype.MONO_BUPRENORPHIN,
        Behandlingstype.HEROIN,
        Behandlingstype.ANDEN_SUBSTITUTION,
    }
)


class AfsluttetStatus(Kode):
    """2-AFSL BehandlingAfsluttetStatusKode."""

    OPHOERT = ("01", "Ophørt")
    REDUCERET = ("02", "Reduceret")
    STABILISERET = ("03", "Stabiliseret")
    TILBAGEFALD = ("04", "Tilbagefald")
    IKKE_FAERDIGBEHANDLET = ("05", "Ikke færdigbehandlet")


class AfsluttetAarsag(Kode):
    """3-AFSL BehandlingAfsluttetAarsagKode (options 1-10 = 03, 02, 04, 05, 01, 09, 06, 07, 08, 10)."""

    UDEBLEVET = ("03", "Borgeren udeblevet")
    MOD_GIVENT_RAAD = ("02", "Borgeren afsluttet mod givent råd")
    DOED = ("04", "Borgeren død")
    FLYTTET = ("05", "Borgeren flyttet")
    FAERDIGBEHANDLET = ("01", "Borgeren færdigbehandlet")
    KRIMINALFORSORGEN = ("09", "Borgeren overgået til Kriminalforsorgen")
    ANDET_TILBUD = ("06", "Borgeren udskrevet til andet tilbud")
    HOSPITAL = ("07", "Borgeren udskrevet til hospital")
    BORTVIST = ("08", "Borgeren bortvist")
    ANDEN = ("10", "Anden årsag til afsluttet behandling, som uddybes ved valg")


# --------------------------------------------------------------------------- §3.2 INDS/YDEL/UDSK
class IndskrivningHvorfra(Kode):
    """4-INDS IndskrivningHvorfraKode (options 1-9 = 09, 01, 02, ..., 08)."""

    EGET_INITIATIV = ("09", "Borgeren har på eget initiativ valgt at gå i behandling")
    FAENGSEL = ("01", "Fængsel")
    SOMATISK_HOSPITAL = ("02", "Somatisk hospital")
    PSYKIATRISK_HOSPITAL = ("03", "Psykiatrisk hospital")
    AMBULANT_AFGIFTNING = ("04", "Ambulant afgiftning eller afrusning")
    DOEGNAFGIFTNING = ("05", "Døgnafgiftning eller døgnafrusning andetsteds")
    STOFFRI_DOEGN = (
        "06",
        "Stoffri døgnbehandling andet sted eller døgnbehandling af alkoholproblemer andet sted",
    )
    FORBEREDENDE = ("07", "Fra anden forberedende behandling, f.eks. anonym stofmisbrugsbehandling")
    ANDET = ("08", "Andet, herunder anden institution, som uddybes ved valg")


class Samtaleramme(Kode):
    """5-YDEL ConsultationTypeCode."""

    UAFGRAENSET = ("01", "Uafgrænset")
    AFGRAENSET = ("02", "Afgrænset")


class PlanlagtPeriode(Kode):
    """6-YDEL PlannedPeriodCode."""

    MAANED_1 = ("01", "1 måned")
    MAANEDER_2 = ("02", "2 måneder")
    MAANEDER_3 = ("03", "3 måneder")
    MAANEDER_4 = ("04", "4 måneder")
    MAANEDER_5 = ("05", "5 måneder")
    MAANEDER_6_PLUS = ("06", "6 måneder eller længere")


class YdelseIntensitet(Kode):
    """7-YDEL IntensityCode."""

    DOEGN = ("01", "Døgn")
    DAG_3_5 = ("02", "Dagbehandling 3-5 gange om ugen")
    AMBULANT_1_2_DAGE = ("03", "Ambulant 1-2 dage om ugen")
    AMBULANT_2_PR_MAANED = ("04", "Ambulant 2 gange om måneden")
    AMBULANT_1_PR_MAANED = ("05", "Ambulant 1 gang om måneden")
    AMBULANT_SJAELDNERE = ("06", "Ambulant mindre end 1 gang om måneden")


class YdelseAfsluttetAarsag(Kode):
    """3-YDEL YdelseAfsluttetAarsagKode (options 1-13 = 11, 12, 13, 03, 02, 04, 05, 01, 09, 06, 07, 08, 10)."""

    SOM_PLANLAGT = ("11", "Borgeren afslutter ydelsen som planlagt")
    SKIFTER_YDELSE = ("12", "Borgeren skifter efter aftale ydelse")
    ANBEFALES_AFSLUTTET = ("13", "Borgeren anbefales at afslutte ydelse")
    UDEBLEVET = ("03", "Borger udeblevet")
    MOD_GIVENT_RAAD = ("02", "Borger afsluttet mod givent råd")
    DOED = ("04", "Borger død")
    FLYTTET = ("05", "Borger flyttet")
    FAERDIGBEHANDLET = ("01", "Borger færdigbehandlet")
    KRIMINALFORSORGEN = ("09", "Borger overgået til Kriminalforsorgen")
    ANDET_TILBUD = ("06", "Borger udskrevet til andet tilbud")
    HOSPITAL = ("07", "Borger udskrevet til hospital")
    BORTVIST = ("08", "Borger bortvist")
    ANDEN = ("10", "Anden årsag til afsluttet ydelse, som uddybes ved valg")


class UdskrivningAarsag(Kode):
    """4-UDSK UdskrivningAarsagKode (same codes as 3-AFSL)."""

    UDEBLEVET = ("03", "Borger udeblevet")
    MOD_GIVENT_RAAD = ("02", "Borger afsluttet mod givent råd")
    DOED = ("04", "Borger død")
    FLYTTET = ("05", "Borger flyttet")
    FAERDIGBEHANDLET = ("01", "Borger færdigbehandlet")
    KRIMINALFORSORGEN = ("09", "Borger overgår til Kriminalforsorgen")
    ANDET_TILBUD = ("06", "Borger udskrevet til andet tilbud")
    HOSPITAL = ("07", "Borger udskrevet til hospital")
    BORTVIST = ("08", "Borger bortvist")
    ANDEN = ("10", "Anden årsag til borger udskrives, som uddybes ved valg")


class BoligsituationEfterUdskrivning(Kode):
    """6-UDSK PersonBoligsituationEfterUdskrivningKode."""

    SELVSTAENDIG = ("01", "Selvstændig bolig")
    LEJET_VAERELSE = ("02", "Lejet værelse")
    FAMILIE_VENNER = ("03", "Familie eller venner")
    INSTITUTION = ("08", "Institutionsophold anden institution")
    STOETTEBOLIG = ("04", "Støttebolig eller fællesskab")
    FAMILIEPLEJE = ("05", "Familiepleje")
    HERBERG = ("12", "Herberg eller forsorgshjem m.v. efter § 110 i lov om social service")
    PENSIONAT = ("13", "Pensionat/vandrehjem")
    FAENGSEL = ("07", "Fængsel")
    INGEN_BOLIG = ("09", "Ingen bolig")
    EFTERSKOLE = ("11", "Efterskole eller højskole")
    ANDET = ("10", "Andet")
    VIL_IKKE_OPLYSE = ("99", "Borgeren vil ikke oplyse")


# --------------------------------------------------------------------------- §3.3 KvalHep
class JaNejIngenIndikation(Kode):
    """3/4/6/8/9/10-KVAL."""

    JA = ("01", "Ja")
    NEJ = ("02", "Nej")
    INGEN_INDIKATION = ("03", "Nej, ingen indikation")
    UOPLYST = ("99", "Uoplyst")


class BuprenorphinIvaerksat(Kode):
    """5-KVAL BehandlingBuprenorphinIvaerksatKode."""

    JA = ("01", "Ja")
    I_FORVEJEN = ("04", "Nej, er i forvejen i behandling m. buprenorphin")
    METADON_SKIFTER_IKKE = (
        "05",
        "Nej, er i behandling med metadon og ønsker ikke at skifte/ikke relevant at skifte",
    )
    IKKE_LYKKEDES = ("06", "Nej, er ikke lykkedes/patienten ønsker ikke buprenorphin")
    UOPLYST = ("99", "Uoplyst")


class BenzodiazepinerIvaerksat(Kode):
    """7-KVAL BehandlingBenzodiazepinerIvaerksatKode."""

    JA = ("01", "Ja")
    EGEN_LAEGE = ("03", "Nej, men patienten er sat i langtidsbehandling af egen læge")
    INGEN_INDIKATION = ("04", "Nej, ingen indikation")
    UOPLYST = ("99", "Uoplyst")


class SerologiskUdredning(Kode):
    """12A/13A/14A-HEPC (options 1-5 = 04, 03, 02, 05, 99)."""

    TEST_UDFOERT = ("04", "Ja, test er udført")
    IKKE_TESTET = ("03", "Ja, men vil ikke testes/ er ikke lykkedes/prøver ikke taget")
    NEJ = ("02", "Nej")
    INGEN_INDIKATION = ("05", "Nej, ingen indikation")
    UOPLYST = ("99", "Uoplyst")


class YderligereUdredning(Kode):
    """15A-HEPC BehandlingYderligereUdredningHenvistKode."""

    JA = ("01", "Ja, test er udført")
    NEJ = ("02", "Nej")
    OENSKER_IKKE = ("04", "Nej, patienten ønsker ikke")
    INGEN_INDIKATION = ("03", "Nej, ingen indikation")
    UOPLYST = ("99", "Uoplyst")


class AntiviralBehandling(Kode):
    """15B-HEPC BehandlingAntiviralIvaerksatKode (options 1-6 = 04, 05, 01, 02, 03, 99)."""

    JA = ("04", "Ja")
    NEJ = ("05", "Nej")
    IKKE_KOMPLIANT = ("01", "Nej, efter vurdering fra specialafdeling ikke fundet kompliant")
    OENSKER_IKKE = ("02", "Nej, patienten ønsker ikke")
    INGEN_INDIKATION = ("03", "Nej, ingen indikation")
    UOPLYST = ("99", "Uoplyst")


class HepatitisAVaccination(Kode):
    """16-HEPC BehandlingHepatitisAvaccinationKode (06-10, 99)."""

    PAABEGYNDT = ("06", "Ja, påbegyndt/videreført")
    GENNEMFOERT = ("07", "Ja, gennemført hele serien")
    HENVIST = ("08", "Ja, patienten er henvist til andet sted mhp. vaccination")
    NEJ = ("09", "Nej")
    IMMUN = ("10", "Nej, patienten er immun")
    UOPLYST = ("99", "Uoplyst")


class HepatitisBVaccination(Kode):
    """17-HEPC BehandlingHepatitisBvaccinationKode (05-09, 99: one lower than 16-HEPC)."""

    PAABEGYNDT = ("05", "Ja, påbegyndt/videreført")
    GENNEMFOERT = ("06", "Ja, gennemført hele serien")
    HENVIST = ("07", "Ja, patienten er henvist til andet sted med henblik på vaccination")
    NEJ = ("08", "Nej")
    IMMUN = ("09", "Nej, patienten er immun")
    UOPLYST = ("99", "Uoplyst")


class HIVUdredning(Kode):
    """18-HEPC BehandlingHIVudredningTilbudtKode (options 1-5 = 04, 05, 02, 01, 99)."""

    POSITIV = ("04", "Ja, test er udført og resultat positivt")
    NEGATIV = ("05", "Ja, test er udført og resultat negativt")
    IKKE_TESTET = ("02", "Ja, men vil ikke testes/er ikke lykkedes/ prøver ikke taget")
    NEJ = ("01", "Nej")
    UOPLYST = ("99", "Uoplyst")

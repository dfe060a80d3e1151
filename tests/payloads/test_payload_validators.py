"""Validators against their published rules: a misread identifier must be caught, a good one accepted."""

import pytest

from host_bridge.payloads import twoddoc, validators as v


@pytest.mark.parametrize("number", ["255081416802538", "295109912611193",   # published examples (Wikipedia, python-stdnum)
                                    "253072A07300443", "253072B07300470"])  # Corsica 2A / 2B
def test_nir_published_examples_pass(number: str) -> None:
    assert v.nir(number) is None


@pytest.mark.parametrize("number,why", [("253072A07300470", "clé"), ("255081416802539", "clé"),
                                        ("25508141680253", "15"), ("955081416802538", "commencer par 9"), ("2550814168025AB", "15")])
def test_nir_bad_key_or_shape_is_refused(number: str, why: str) -> None:
    assert why in v.nir(number)


def _keyed(body: str) -> str:
    return body + f"{v.nir_key(body):02d}"


@pytest.mark.parametrize("body", ["1803099123456",    # month 30: an unknown-month value of the NIR
                                  "4800575123456",    # 4: a foreign woman being registered
                                  "7804299123456",    # 7: NIA (temporary number), pseudo-month 42
                                  "8805099123456"])   # 8: NIA, month 50
def test_nir_special_first_digits_and_months_are_accepted(body: str) -> None:
    assert v.nir(_keyed(body)) is None


@pytest.mark.parametrize("body,why", [("1801375123456", "mois 13"), ("1804375123456", "mois 43"),
                                      ("1800075123456", "mois 00"), ("5800575123456", "commencer par 5"),
                                      ("0800575123456", "commencer par 0")])
def test_nir_months_and_first_digits_the_rules_exclude_are_refused(body: str, why: str) -> None:
    assert why in v.nir(_keyed(body))


def test_siren_and_siret_follow_stdnum_including_la_poste() -> None:
    assert v.siren("732829320") is None and "clé" in v.siren("732829321")
    assert v.siret("73282932000074") is None and "clé" in v.siret("73282932000075")
    assert v.siret("35600000000001") is None     # La Poste: digit sum a multiple of 5, not Luhn
    assert not v.luhn_ok("35600000000001")


def test_ins_sex_is_m_or_f_as_published() -> None:
    assert v.sex("M") is None and v.sex("F") is None
    assert "M ou F" in v.sex("I")


def test_luhn_numbers() -> None:
    assert v.luhn_ok("79927398713") and not v.luhn_ok("79927398710")  # the classic Luhn example
    assert v.finess("750712184") is None                                  # AP-HP's FINESS
    assert "Luhn" in v.finess("750712185")
    assert v.rpps("10000000017") is None and "Luhn" in v.rpps("10000000018")
    assert "11 chiffres" in v.rpps("1000000001")
    assert "9 chiffres" in v.am_number("12345678X")


@pytest.mark.parametrize("value", ["4006381333931", "09506000134352", "00012345600012"])
def test_gtin_published_examples(value: str) -> None:
    assert v.gtin(value) is None


def test_gtin_wrong_check_digit() -> None:
    assert "clé de contrôle" in v.gtin("4006381333932")


def test_dates() -> None:
    assert v.date_iso("2024-02-29") is None and v.date_iso("2023-02-29")
    assert v.date_dmy("29-02-2024") is None and v.date_dmy("2024-02-29")
    assert v.yymmdd("261200") is None and str(v.gs1_date("261200")) == "2026-12-31"  # DD=00: last day of month
    assert v.yymmdd("261301")
    assert v.period("20260101-20261231") is None and "après sa fin" in v.period("20270101-20261231")


def test_prescription_number_catches_every_typo_but_not_every_swap() -> None:
    body = "7K3P9QXA2M4TB8R"
    good = body + v.iso7064_mod37_36_check(body)
    assert v.prescription_number(good) is None
    for i in range(16):
        for ch in v.ALNUM36:
            typo = good[:i] + ch + good[i + 1:]
            if typo != good:
                assert v.prescription_number(typo), f"substitution at {i} not caught"
    # MOD 37,36 is not a guarantee against adjacent swaps: "IJ" <-> "JI" after the same prefix passes
    undetected = [(a, b) for a in v.ALNUM36 for b in v.ALNUM36 if a != b
                  and v.iso7064_mod37_36_check("AAAA" + a + b) == v.iso7064_mod37_36_check("AAAA" + b + a)]
    assert undetected and "not every adjacent swap" in v.iso7064_mod37_36_check.__doc__


def test_2ddoc_header_dates_are_hex_days_since_2000() -> None:
    head, length = twoddoc.parse_header("DC04FR000001" + "1E5A" + "1E5B" + "01" + "A1" + "FR")
    assert length == 26
    assert head["issue_date"] == "2021-04-10" and head["signature_date"] == "2021-04-11"   # 0x1E5A = 7770 days
    assert head["perimeter"] == "A1" and head["country"] == "FR"
    head, length = twoddoc.parse_header("DC02FR000001FFFF1E5A01")
    assert length == 22 and head["issue_date"] is None and "perimeter" not in head


@pytest.mark.parametrize("text,why", [("DC05FR0000011E5A1E5A01", "version"), ("DC03FR0000011E5G1E5A01A1", "hexadécimaux"),
                                      ("DC02FR00", "22 caractères"), ("DC02FR0000011E5B1E5A01", "antérieure")])
def test_2ddoc_bad_headers(text: str, why: str) -> None:
    with pytest.raises(twoddoc.HeaderError, match=why):
        twoddoc.parse_header(text)


@pytest.mark.parametrize("kind, value", [
    ("yymmdd", "30110\u00b3"), ("yymmdd", "\u00b2\u00b21231"), ("gtin", "0340053045340\u00b9"),
    ("rpps", "1000000000\u00b9"), ("digits", "12\u00b3"), ("nir", "18501\u0663\u06631234556"),
    ("insee_place", "7\u06635056"), ("date", "2024-0\u0661-15"), ("period", "2024010\u0661-20241231"),
    ("oid", "1.2.\u0662\u0665"),
])
def test_digits_outside_ascii_are_a_reason_not_a_crash(kind, value) -> None:
    """Superscripts and other scripts' digits pass str.isdigit()/\\d; they must be refused, never int()ed."""
    assert v.VALIDATORS[kind](value)


@pytest.mark.parametrize("char", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
                                  "\u2069", "\u200e", "\u200f", "\u200b", "\u00ad", "\ufeff", "\u2028", "\x1b"])
def test_a_name_with_a_bidi_or_invisible_character_is_refused(char: str) -> None:
    """The name shown to the pharmacist must be the name in the code: no reordering, nothing hidden."""
    assert "U+%04X" % ord(char) in v.name("DUPONT" + char + "NEMAJ")


@pytest.mark.parametrize("good", ["DUPONT", "Lefèvre-Hénault", "N'Diaye", "Ørsted Åsa", "Müller Zoë", "李 小龍"])
def test_real_names_with_accents_and_punctuation_are_accepted(good: str) -> None:
    assert v.name(good) is None

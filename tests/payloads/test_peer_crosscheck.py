"""Our identifier and GS1 checks agree with python-stdnum and biip, except where a documented rule says why."""

from host_bridge.testbench.benches.peers import crosscheck


def test_validators_and_gs1_agree_with_their_peers_or_a_documented_rule() -> None:
    rows = {row.check.split(" (")[0]: row for row in crosscheck(2_000, seed=7)}
    assert all(row.inputs == 2_000 for row in rows.values())
    assert {name: row.unexplained[:3] for name, row in rows.items() if row.unexplained} == {}
    assert set(rows["NIR / INS"].explained) == {"NIR first digit 0, 5, 6 or 9 (stdnum checks only the key)",
                                                "NIR month 00, 13-19 or 43-49 (stdnum checks only the key)"}
    for exact in ("RPPS, 11-digit Luhn", "FINESS / AM, 9-digit Luhn", "SIRET", "GTIN-8/12/13/14"):
        assert rows[exact].disagreements == 0, exact
    assert rows["GS1 element strings"].explained  # the rules of docs/payloads.md are exercised, none unexplained


def test_check_character_rates_are_measured_not_claimed() -> None:
    from host_bridge.testbench.benches.checkchar import rates

    measured = rates(150, seed=1)
    tried, undetected = measured["single substitution (a → b)"]
    assert tried == 150 * 16 * 35 and undetected == 0                    # every mistyped character is caught
    assert all(measured[kind][1] > 0 for kind in ("adjacent transposition (ab → ba)", "jump transposition (abc → cba)",
                                                  "twin error (aa → bb)"))  # but not every swap or twin

"""Registration fee (le phi truoc ba) on land and houses: Decree 10/2022/ND-CP."""

from __future__ import annotations

from decimal import Decimal

from .context import Ctx, apartment_coef, house_value, info_rate, pid, price_of
from .due import after_notice, line_dues
from .model import Line
from .money import ONE, ZERO, fmt_rate, fmt_vnd, round_dong
from .rules import FAMILY_RELATIONSHIPS

#: Exemptions that rest on the applicant's declaration (a relationship, a residence, a
#: judgment, a resettlement decision), not on the registry's own data: an officer checks the
#: papers before the notice is issued.
CLAIMED_EXEMPTIONS = frozenset({
    "family_inheritance_gift", "family_transfer", "divorce_split", "sole_residence_183_days",
    "compensation_resettlement", "reissued_certificate", "agricultural_land_exchange",
    "agricultural_land_self_reclaimed",
})


def claim_review(ctx: Ctx, exemption: str, names: tuple[str, str]) -> None:
    """Ask for an officer when an exemption rests on a claim (``CLAIMED_EXEMPTIONS``)."""
    if exemption in CLAIMED_EXEMPTIONS:
        ctx.review("exemption_claimed", exemption,
                   f"miễn theo kê khai ({names[0]}): cần kiểm tra giấy tờ",
                   f"exemption claimed ({names[1]}): the papers must be checked")


def registration_fee_line(ctx: Ctx) -> Line:
    case = ctx.case
    rule = ctx.rule("registration_fee")
    rate: Decimal = rule.params["rate"]
    table_term = Decimal(rule.params["table_term_years"])
    components = []
    taxable = ZERO
    total = ZERO
    for i, parcel in enumerate(case.parcels):
        price = price_of(ctx, i, parcel)
        coef = apartment_coef(i, parcel)
        fraction = ONE
        if parcel.lease == "one_time" and parcel.lease_term_years is not None \
                and parcel.lease_term_years < table_term:
            fraction = parcel.lease_term_years / table_term
        land = parcel.area_m2 * price * coef * fraction
        value = land + house_value(parcel)
        exempt = None
        # Decree 10/2022 art. 10(7): land leased with annual rent. Agricultural land is exempt
        # only where the State allocates, leases or recognises it for farming (art. 10(4)),
        # on an exchange between households (10(5)) or when self-reclaimed (10(6)): none of
        # these is a sale or a gift, which pay 0.5% (claims: ``registration_fee_exemption``).
        if parcel.lease == "annual":
            exempt = "annual_rent_lease"
        total += value
        if exempt is None:
            taxable += value
        method = ("area_x_table_price" + ("_x_allocation_coefficient" if parcel.apartment else "")
                  + ("_x_term_over_70" if fraction != ONE else "")
                  + ("_plus_house" if parcel.house else ""))
        components.append((("parcel", pid(i, parcel)), ("method", method),
                           ("table_price_per_m2", price), ("area_m2", parcel.area_m2),
                           ("allocation_coefficient", coef if parcel.apartment else None),
                           ("lease_fraction", info_rate(fraction)),
                           ("house_value", round_dong(house_value(parcel))),
                           ("value", round_dong(value)), ("exemption", exempt)))
    dossier_exempt = None
    if case.procedure in {"gift", "inheritance"} and case.relationship in FAMILY_RELATIONSHIPS:
        dossier_exempt = "family_inheritance_gift"
    elif case.registration_fee_exemption:
        dossier_exempt = case.registration_fee_exemption
    parcel_exempt = [dict(c)["exemption"] for c in components]
    all_exempt = all(parcel_exempt)
    if all_exempt and dossier_exempt is None:
        dossier_exempt = parcel_exempt[0]
    # When everything is exempt the line still shows the base that would have applied.
    base_value = total if all_exempt else taxable
    share = ONE if all_exempt or not total else taxable / total
    method, method_text = "table_value", "area x land price table (+ house value)"
    if case.procedure == "transfer" and case.declared_price is not None \
            and case.declared_price > total:
        base_value = case.declared_price * share
        method = "contract_price" if share == ONE else "contract_price_pro_rata_taxable"
        method_text = ("contract price (higher than the table value)" if share == ONE else
                       "contract price, pro rata to the taxable parcels' table value")
    base = round_dong(base_value)
    amount = 0 if dossier_exempt else round_dong(base_value * rate)
    method_vi = {
        "table_value": "diện tích x giá đất trong bảng giá (+ giá trị nhà)",
        "contract_price": "giá ghi trên hợp đồng, cao hơn giá theo bảng giá",
        "contract_price_pro_rata_taxable": "giá hợp đồng, phân bổ theo phần giá trị chịu lệ phí",
    }[method]
    vi = f"Lệ phí trước bạ {fmt_rate(rate)} x {fmt_vnd(base)} đ ({method_vi})"
    en = f"Registration fee {fmt_rate(rate)} x {fmt_vnd(base)} VND ({method_text})"
    if dossier_exempt:
        names = {
            "family_inheritance_gift": ("thừa kế, tặng cho giữa người thân", "inheritance or "
                                        "gift between close relatives"),
            "agricultural_land_exchange": ("đất nông nghiệp chuyển đổi giữa hộ gia đình, cá "
                                           "nhân", "agricultural land exchanged between "
                                           "households"),
            "agricultural_land_self_reclaimed": ("đất nông nghiệp tự khai hoang",
                                                 "self-reclaimed agricultural land"),
            "annual_rent_lease": ("đất thuê trả tiền hằng năm", "land leased with annual rent"),
            "compensation_resettlement": ("đất bồi thường, tái định cư",
                                          "compensation or resettlement land"),
            "reissued_certificate": ("cấp lại giấy chứng nhận", "re-issued certificate"),
        }[dossier_exempt]
        vi = f"Miễn lệ phí trước bạ ({names[0]}, Nghị định 10/2022 Điều 10)"
        en = f"Exempt from the registration fee ({names[1]}, Decree 10/2022 art. 10)"
        claim_review(ctx, dossier_exempt, names)
    return Line(
        obligation="registration_fee", base=base, base_method=method,
        base_method_text=method_text, rate=rate, amount=amount,
        legal_basis=rule.legal_basis, rule_version=rule.version,
        explanation_vi=vi, explanation_en=en,
        **line_dues(amount, after_notice(rule.params["due_days"]), case.notice_date),
        exemption=dossier_exempt,
        inputs=(("declared_price", case.declared_price), ("table_value", round_dong(total)),
                ("taxable_table_value", round_dong(taxable))),
        components=tuple(components),
    )

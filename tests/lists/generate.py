"""A large generated set of rows on PostgreSQL, made in a few statements (INSERT ... SELECT
generate_series): dossiers of both offices of the test world with their parcels, parties,
assessments, notices (the paid dossiers' with their payments and receipts), events, annual
notices, reconciliation items and dead letters."""

from __future__ import annotations

from sqlalchemy import text

#: How many generated parties share the dossiers (each is a party of about 2 * n / PARTIES).
PARTIES = 5000


def generate(conn, n: int = 200_000) -> dict:
    """Insert ``n`` dossiers (half per registry office) and what hangs off them; returns the
    ids a test needs. ``conn`` is a connection in a transaction on PostgreSQL."""
    def office(code: str) -> int:
        return conn.execute(text("SELECT id FROM offices WHERE code = :c"), {"c": code}).scalar_one()

    ids = {
        "reg1": office("REG1"), "reg2": office("REG2"), "tax1": office("TAX1"), "tax2": office("TAX2"),
        "officer": conn.execute(text("SELECT id FROM users WHERE username = 'registry'")).scalar_one(),
    }
    p = {**ids, "n": n, "parties": PARTIES}
    conn.execute(text("""
        INSERT INTO parties (full_name, citizen_id)
        SELECT 'Người Thử ' || i, '1' || lpad(i::text, 11, '0') FROM generate_series(1, :parties) i"""), p)
    first_party = conn.execute(text("SELECT min(id) FROM parties WHERE citizen_id LIKE '1%'")).scalar_one()
    p["p0"] = first_party
    conn.execute(text("""
        INSERT INTO parcels (province, map_sheet, parcel_no, address, land_type, area_m2, price_key,
                             position, registry_office_id)
        SELECT 'HCM', 'G' || (i % 500), i::text, i || ' Đường Sinh', 'residential', 60, 'Q1-LE-LOI', 1,
               CASE WHEN i % 2 = 0 THEN :reg1 ELSE :reg2 END
        FROM generate_series(1, :n) i"""), p)
    p["parcel0"] = conn.execute(text("SELECT min(id) FROM parcels WHERE map_sheet LIKE 'G%'")).scalar_one()
    # Statuses as stored (enum names); three in ten still open, the rest completed; the
    # offices alternate, so each office has dossiers in every state. A paid or completed
    # dossier became paid when its notice was (a day after the assessment, below).
    conn.execute(text("""
        INSERT INTO dossiers (code, procedure, status, parcel_id, registry_office_id, tax_office_id,
                              declared_price, sole_residence, filed_by_id, filed_at, valid_on, due_on,
                              paid_at)
        SELECT 'HSG' || lpad(i::text, 9, '0'), 'transfer', status,
               :parcel0 + i - 1,
               CASE WHEN i % 2 = 0 THEN :reg1 ELSE :reg2 END, CASE WHEN i % 2 = 0 THEN :tax1 ELSE :tax2 END,
               1000000000 + i, false, :officer, filed_at,
               date '2024-01-01' + (i / 300), date '2024-01-15' + (i / 300),
               CASE WHEN status IN ('PAID', 'COMPLETED') THEN filed_at + interval '25 hours' END
        FROM (SELECT i, timestamptz '2024-01-01 00:00:00+00' + i * interval '5 minutes' AS filed_at,
                     (ARRAY['COMPLETED','COMPLETED','COMPLETED','COMPLETED','COMPLETED','COMPLETED',
                            'COMPLETED','PAID','AWAITING_PAYMENT','AWAITING_CONFIRMATION'])[1 + (i / 2) % 10]
                     AS status
              FROM generate_series(1, :n) i) g"""), p)
    p["d0"] = conn.execute(text("SELECT min(id) FROM dossiers WHERE code LIKE 'HSG%'")).scalar_one()
    conn.execute(text("""
        INSERT INTO dossier_parties (dossier_id, party_id, role, position, share_num, share_den)
        SELECT :d0 + i - 1, :p0 + (i % :parties), 'transferor', 1, NULL, NULL FROM generate_series(1, :n) i
        UNION ALL
        SELECT :d0 + i - 1, :p0 + ((i * 7 + 1) % :parties), 'transferee', 1, 1, 1 FROM generate_series(1, :n) i"""), p)
    conn.execute(text("""
        INSERT INTO assessments (dossier_id, tax_office_id, status, total, price_table_version, rule_versions,
                                 valid_on, "case", review_reasons, created_at, confirmed_at, auto_confirmed)
        SELECT d.id, d.tax_office_id, CASE WHEN d.status = 'AWAITING_CONFIRMATION' THEN 'PENDING' ELSE 'CONFIRMED' END,
               30000000, 'HCM-TEST-1', '{}', d.valid_on, '{}', '[]', d.filed_at,
               CASE WHEN d.status = 'AWAITING_CONFIRMATION' THEN NULL ELSE d.filed_at + interval '1 hour' END, false
        FROM dossiers d WHERE d.code LIKE 'HSG%'"""))
    conn.execute(text("""
        INSERT INTO notices (code, dossier_id, assessment_id, payer_id, payer_role, status, total, issued_at, due_on,
                             paid_at)
        SELECT 'TBG' || substr(d.code, 4), d.id, a.id, dp.party_id, 'transferee',
               CASE WHEN d.status = 'AWAITING_PAYMENT' THEN 'UNPAID' ELSE 'PAID' END, 30000000,
               a.confirmed_at, d.due_on,
               CASE WHEN d.status = 'AWAITING_PAYMENT' THEN NULL ELSE a.confirmed_at + interval '1 day' END
        FROM dossiers d JOIN assessments a ON a.dossier_id = d.id
        JOIN dossier_parties dp ON dp.dossier_id = d.id AND dp.role = 'transferee'
        WHERE d.code LIKE 'HSG%' AND a.status = 'CONFIRMED'"""))
    # The payments and receipts of the paid dossiers' notices (what the registry's list of
    # paid dossiers shows).
    conn.execute(text("""
        INSERT INTO payment_orders (ref, notice_id, amount, status, bank_ref, created_at, finished_at,
                                    needs_refund)
        SELECT 'PG' || n.id, n.id, n.total, 'succeeded', 'BG' || n.id, n.paid_at, n.paid_at, false
        FROM notices n JOIN dossiers d ON d.id = n.dossier_id
        WHERE d.code LIKE 'HSG%' AND d.status = 'PAID'"""))
    conn.execute(text("""
        INSERT INTO receipts (number, payment_id, notice_id, token, kid, claims, issued_at)
        SELECT 'BLG' || o.notice_id, o.id, o.notice_id, '', 'gen', '{}', o.finished_at
        FROM payment_orders o WHERE o.ref LIKE 'PG%'"""))
    conn.execute(text("""
        INSERT INTO events (uid, dossier_id, kind, from_status, to_status, actor_label, at, data)
        SELECT 'g-' || d.id || '-' || k, d.id, (ARRAY['dossier_filed','assessment_confirmed','dossier_completed'])[k],
               NULL, NULL, 'system', d.filed_at + k * interval '1 hour', '{}'
        FROM dossiers d CROSS JOIN generate_series(1, 3) k WHERE d.code LIKE 'HSG%'"""))
    conn.execute(text("""
        INSERT INTO annual_tax_notices (code, parcel_id, holder_id, tax_year, amount, exempt, price_table_version,
                                        quota_m2, quota_version, rule_version, due_on, created_at)
        SELECT 'NN' || y || '-' || lpad((:parcel0 + i - 1)::text, 9, '0'), :parcel0 + i - 1, :p0 + (i % :parties),
               y, 120000, false, 'HCM-TEST-1', 200, 'Q-1', 'r-1', make_date(y, 10, 31), now()
        FROM generate_series(1, :n / 4) i CROSS JOIN generate_series(2025, 2026) y"""), p)
    conn.execute(text("""
        INSERT INTO reconciliation_items (key, kind, status, amount, detail, created_at)
        SELECT 'gen-' || i, 'unknown_credit', CASE WHEN i % 5 = 0 THEN 'open' ELSE 'accepted' END, 1000, '',
               timestamptz '2024-01-01 00:00:00+00' + i * interval '1 hour'
        FROM generate_series(1, :n / 10) i"""), p)
    conn.execute(text("""
        INSERT INTO outbox (event_uid, destination, payload, created_at, attempts, state)
        SELECT 'g-out-' || i, 'national_portal', '{}', now(), 1,
               CASE WHEN i % 50 = 0 THEN 'dead' ELSE 'delivered' END
        FROM generate_series(1, :n / 2) i"""), p)
    return p

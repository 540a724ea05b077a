-- What Homebox keeps about an item that we did not: whether it is insured, a lifetime
-- warranty, and the record of its sale. Nullable, as on PostgreSQL; a NULL flag reads as
-- false. The sale price is money like the purchase price: minor units and a currency code.
ALTER TABLE items ADD COLUMN insured INTEGER;

ALTER TABLE items ADD COLUMN lifetime_warranty INTEGER;

ALTER TABLE items ADD COLUMN sold_to TEXT;

ALTER TABLE items ADD COLUMN sold_date TEXT;

ALTER TABLE items ADD COLUMN sold_price_minor INTEGER;

ALTER TABLE items ADD COLUMN sold_price_currency TEXT;

ALTER TABLE items ADD COLUMN sold_notes TEXT;

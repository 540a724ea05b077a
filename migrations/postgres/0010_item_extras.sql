-- What Homebox keeps about an item that we did not: whether it is insured, a lifetime
-- warranty, and the record of its sale. Nullable and without defaults (one DDL statement
-- each, as Aurora DSQL asks); a NULL flag reads as false. The sale price is money like
-- the purchase price: minor units and a currency code.
ALTER TABLE items ADD COLUMN IF NOT EXISTS insured boolean;

ALTER TABLE items ADD COLUMN IF NOT EXISTS lifetime_warranty boolean;

ALTER TABLE items ADD COLUMN IF NOT EXISTS sold_to text;

ALTER TABLE items ADD COLUMN IF NOT EXISTS sold_date date;

ALTER TABLE items ADD COLUMN IF NOT EXISTS sold_price_minor bigint;

ALTER TABLE items ADD COLUMN IF NOT EXISTS sold_price_currency text;

ALTER TABLE items ADD COLUMN IF NOT EXISTS sold_notes text;

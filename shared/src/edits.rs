//! What the server and the app both do with an item's fields: the text a search looks in,
//! and the PATCH between two versions.

use crate::{ItemFields, Patch, UpdateItem};

impl ItemFields {
    /// Lower-cased text of every searchable field, one per line: a search matches an item
    /// when this holds the lower-cased query. The server's index and the app's offline copy
    /// both search this text, so they find the same items.
    pub fn search_text(&self) -> String {
        let mut parts: Vec<&str> = vec![&self.name];
        for text in [
            &self.description,
            &self.brand,
            &self.model,
            &self.serial_number,
            &self.barcode,
            &self.notes,
            &self.sold_to,
            &self.sold_notes,
        ]
        .into_iter()
        .flatten()
        {
            parts.push(text);
        }
        parts.extend(self.tags.iter().map(String::as_str));
        parts.join("\n").to_lowercase()
    }

    /// The fields that differ from `self` in `after`, as a PATCH body: absent where equal,
    /// `null` where emptied.
    pub fn patch_to(&self, after: &ItemFields) -> UpdateItem {
        fn opt<T: Clone + PartialEq>(a: &Option<T>, b: &Option<T>) -> Patch<T> {
            if a == b {
                Patch::Missing
            } else {
                b.clone().into()
            }
        }
        fn val<T: Clone + PartialEq>(a: &T, b: &T) -> Patch<T> {
            if a == b {
                Patch::Missing
            } else {
                Patch::Value(b.clone())
            }
        }
        UpdateItem {
            name: val(&self.name, &after.name),
            description: opt(&self.description, &after.description),
            location_id: opt(&self.location_id, &after.location_id),
            quantity: val(&self.quantity, &after.quantity),
            tags: val(&self.tags, &after.tags),
            brand: opt(&self.brand, &after.brand),
            model: opt(&self.model, &after.model),
            serial_number: opt(&self.serial_number, &after.serial_number),
            barcode: opt(&self.barcode, &after.barcode),
            purchase_date: opt(&self.purchase_date, &after.purchase_date),
            purchase_price: opt(&self.purchase_price, &after.purchase_price),
            purchased_from: opt(&self.purchased_from, &after.purchased_from),
            estimated_value: opt(&self.estimated_value, &after.estimated_value),
            warranty_expires: opt(&self.warranty_expires, &after.warranty_expires),
            notes: opt(&self.notes, &after.notes),
            custom_fields: val(&self.custom_fields, &after.custom_fields),
            insured: val(&self.insured, &after.insured),
            lifetime_warranty: val(&self.lifetime_warranty, &after.lifetime_warranty),
            sold_to: opt(&self.sold_to, &after.sold_to),
            sold_date: opt(&self.sold_date, &after.sold_date),
            sold_price: opt(&self.sold_price, &after.sold_price),
            sold_notes: opt(&self.sold_notes, &after.sold_notes),
            asset_id: match after.asset_id {
                Some(id) if self.asset_id != after.asset_id => Patch::Value(id.to_string()),
                _ => Patch::Missing,
            },
        }
    }

    /// Copies one field, named as [`crate::changed_fields`] names it, from `from`.
    pub fn copy_field(&mut self, from: &ItemFields, field: &str) {
        match field {
            "name" => self.name = from.name.clone(),
            "description" => self.description = from.description.clone(),
            "location_id" => self.location_id = from.location_id,
            "quantity" => self.quantity = from.quantity,
            "tags" => self.tags = from.tags.clone(),
            "brand" => self.brand = from.brand.clone(),
            "model" => self.model = from.model.clone(),
            "serial_number" => self.serial_number = from.serial_number.clone(),
            "barcode" => self.barcode = from.barcode.clone(),
            "purchase_date" => self.purchase_date = from.purchase_date,
            "purchase_price" => self.purchase_price = from.purchase_price.clone(),
            "purchased_from" => self.purchased_from = from.purchased_from.clone(),
            "estimated_value" => self.estimated_value = from.estimated_value.clone(),
            "warranty_expires" => self.warranty_expires = from.warranty_expires,
            "notes" => self.notes = from.notes.clone(),
            "custom_fields" => self.custom_fields = from.custom_fields.clone(),
            "insured" => self.insured = from.insured,
            "lifetime_warranty" => self.lifetime_warranty = from.lifetime_warranty,
            "sold_to" => self.sold_to = from.sold_to.clone(),
            "sold_date" => self.sold_date = from.sold_date,
            "sold_price" => self.sold_price = from.sold_price.clone(),
            "sold_notes" => self.sold_notes = from.sold_notes.clone(),
            "asset_id" => self.asset_id = from.asset_id,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drill() -> ItemFields {
        ItemFields {
            name: "Drill".into(),
            quantity: 1,
            brand: Some("Bosch".into()),
            notes: Some("blue case".into()),
            tags: vec!["Tools".into()],
            ..Default::default()
        }
    }

    #[test]
    fn search_text_holds_every_searchable_field_lower_cased() {
        let text = drill().search_text();
        assert_eq!(text, "drill\nbosch\nblue case\ntools");
    }

    #[test]
    fn search_text_holds_who_an_item_was_sold_to_and_the_sale_notes() {
        let mut sold = drill();
        sold.sold_to = Some("Ann Lee".into());
        sold.sold_notes = Some("Paid Cash".into());
        assert_eq!(
            sold.search_text(),
            "drill\nbosch\nblue case\nann lee\npaid cash\ntools"
        );
    }

    #[test]
    fn a_patch_carries_only_what_changed_and_null_for_what_was_emptied() {
        let before = drill();
        let mut after = drill();
        after.brand = None;
        after.quantity = 3;
        after.insured = true;
        after.sold_to = Some("Ann".into());
        let patch = serde_json::to_value(before.patch_to(&after)).expect("json");
        assert_eq!(
            patch,
            serde_json::json!({"brand": null, "quantity": 3, "insured": true, "sold_to": "Ann"})
        );
        assert_eq!(before.patch_to(&before), UpdateItem::default());
    }
}

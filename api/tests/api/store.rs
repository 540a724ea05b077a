//! The store conformance suite: the same bodies against SQLite and PostgreSQL.

use api::store::{
    ActivityRow, Cursor, DynStore, HouseholdRow, ItemQuery, ItemRow, ItemSort, LocationRow,
    SessionRow, StoreError, UserRow,
};
use shared::{
    Action, CreateItem, Currency, Day, HouseholdId, ItemId, LocationId, Money, User, UserId,
};
use time::{Duration, OffsetDateTime};

use crate::helpers::{Backend, TestDb};

crate::on_every_backend!(
    migrations_can_run_again_on_an_existing_database,
    an_email_belongs_to_one_account,
    sessions_end_when_they_expire_or_are_deleted,
    old_sign_in_attempts_are_purged_in_pages,
    an_item_keeps_every_field,
    the_sale_record_and_the_insurance_flags_are_kept_and_cleared,
    a_stale_version_is_refused_and_nothing_changes,
    search_matches_substrings_of_every_searchable_field_regardless_of_case,
    paging_by_cursor_sees_every_item_once_while_new_items_arrive,
    filters_by_location_and_tag_combine,
    a_location_with_items_or_children_cannot_be_deleted,
    tags_count_only_live_items,
    purging_the_trash_removes_items_their_tags_and_history,
    history_lists_changes_newest_first_with_the_actor,
    stats_sum_values_by_location_and_tag,
    search_entries_follow_changes_since_a_time,
    importing_writes_every_item_with_its_tags_and_history,
);

fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
}

fn usd(amount_minor: i64) -> Money {
    Money {
        amount_minor,
        currency: Currency::parse("USD").unwrap(),
    }
}

struct World {
    _db: TestDb,
    store: DynStore,
    user: UserId,
    household: HouseholdId,
}

async fn world(backend: Backend) -> World {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let user = UserId::new();
    let household = HouseholdId::new();
    store
        .create_user(
            &UserRow {
                user: User {
                    id: user,
                    email: format!("{user}@example.com"),
                    name: "Ann".into(),
                    created_at: t0(),
                },
                password_hash: Some("hash".into()),
                email_verified_at: None,
            },
            &HouseholdRow {
                id: household,
                name: "Home".into(),
                currency: Currency::default(),
                version: 1,
                created_at: t0(),
            },
        )
        .await
        .unwrap();
    World {
        _db: db,
        store,
        user,
        household,
    }
}

impl World {
    async fn item(
        &self,
        name: &str,
        at: OffsetDateTime,
        edit: impl FnOnce(&mut CreateItem),
    ) -> ItemRow {
        let mut body = CreateItem {
            name: Some(name.into()),
            ..Default::default()
        };
        edit(&mut body);
        let mut row = ItemRow {
            id: ItemId::new(),
            household_id: self.household,
            fields: body.validate(&Currency::default()).unwrap(),
            version: 1,
            created_at: at,
            updated_at: at,
            deleted_at: None,
        };
        let asset_id = self
            .store
            .insert_item(&row, &self.activity(row.id, Action::Created, at))
            .await
            .unwrap();
        row.fields.asset_id = Some(asset_id);
        row
    }

    fn activity(&self, item: ItemId, action: Action, at: OffsetDateTime) -> ActivityRow {
        ActivityRow::new(self.household, item, self.user, action, vec![], at)
    }

    async fn location(&self, name: &str, parent: Option<LocationId>) -> LocationId {
        let row = LocationRow {
            id: LocationId::new(),
            household_id: self.household,
            parent_id: parent,
            name: name.into(),
            description: None,
            asset_id: None,
            version: 1,
            created_at: t0(),
            updated_at: t0(),
        };
        self.store.insert_location(&row).await.unwrap();
        row.id
    }

    async fn list(&self, query: ItemQuery) -> Vec<String> {
        let query = ItemQuery {
            limit: if query.limit == 0 { 200 } else { query.limit },
            ..query
        };
        self.store
            .list_items(self.household, &query)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.fields.name)
            .collect()
    }

    async fn trash(&self, row: &ItemRow) {
        let next = ItemRow {
            version: row.version + 1,
            deleted_at: Some(t0()),
            ..row.clone()
        };
        self.store
            .update_item(
                &next,
                row.version,
                &self.activity(row.id, Action::Deleted, t0()),
            )
            .await
            .unwrap();
    }
}

async fn migrations_can_run_again_on_an_existing_database(backend: Backend) {
    let w = world(backend).await;
    w.item("Drill", t0(), |_| {}).await;
    // Opening runs the migrations again; the data stays.
    let again = w._db.store().await;
    let items = again
        .list_items(
            w.household,
            &ItemQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(items.len(), 1);
}

async fn an_email_belongs_to_one_account(backend: Backend) {
    let w = world(backend).await;
    let email = format!("{}@example.com", w.user);
    let again = w
        .store
        .create_user(
            &UserRow {
                user: User {
                    id: UserId::new(),
                    email: email.clone(),
                    name: "Other".into(),
                    created_at: t0(),
                },
                password_hash: None,
                email_verified_at: None,
            },
            &HouseholdRow {
                id: HouseholdId::new(),
                name: "Other".into(),
                currency: Currency::default(),
                version: 1,
                created_at: t0(),
            },
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let found = w.store.user_by_email(&email).await.unwrap().unwrap();
    assert_eq!(found.user.name, "Ann");
    assert_eq!(w.store.households_of(w.user).await.unwrap().len(), 1);
}

async fn sessions_end_when_they_expire_or_are_deleted(backend: Backend) {
    let w = world(backend).await;
    let now = OffsetDateTime::now_utc();
    let session = SessionRow {
        token_hash: vec![1, 2, 3],
        id: uuid::Uuid::now_v7(),
        user_agent: None,
        last_used_at: None,
        user_id: w.user,
        created_at: now,
        expires_at: now + Duration::hours(1),
    };
    w.store.create_session(&session).await.unwrap();
    let (_, user) = w.store.session(&[1, 2, 3], now).await.unwrap().unwrap();
    assert_eq!(user.id, w.user);
    assert!(
        w.store
            .session(&[1, 2, 3], now + Duration::hours(2))
            .await
            .unwrap()
            .is_none()
    );
    w.store
        .extend_session(&[1, 2, 3], now + Duration::hours(3), now)
        .await
        .unwrap();
    assert!(
        w.store
            .session(&[1, 2, 3], now + Duration::hours(2))
            .await
            .unwrap()
            .is_some()
    );
    w.store.delete_session(&[1, 2, 3]).await.unwrap();
    assert!(w.store.session(&[1, 2, 3], now).await.unwrap().is_none());
}

async fn old_sign_in_attempts_are_purged_in_pages(backend: Backend) {
    let w = world(backend).await;
    let now = OffsetDateTime::now_utc();
    let old: Vec<(uuid::Uuid, String)> = (0..5)
        .map(|i| (uuid::Uuid::now_v7(), format!("address:198.51.100.{i}")))
        .collect();
    w.store
        .record_login_attempts(&old, now - Duration::days(2))
        .await
        .unwrap();
    let recent = [(uuid::Uuid::now_v7(), "account:ann@example.com".to_string())];
    w.store.record_login_attempts(&recent, now).await.unwrap();
    let before = now - Duration::days(1);
    assert_eq!(w.store.purge_login_attempts(before, 3).await.unwrap(), 3);
    assert_eq!(w.store.purge_login_attempts(before, 3).await.unwrap(), 2);
    assert_eq!(w.store.purge_login_attempts(before, 3).await.unwrap(), 0);
    let counted = |key: &str| {
        let store = w.store.clone();
        let key = key.to_string();
        async move {
            store
                .login_attempts_since(&key, now - Duration::days(3), 10)
                .await
                .unwrap()
        }
    };
    assert_eq!(counted("address:198.51.100.0").await, 0, "purged");
    assert_eq!(
        counted("account:ann@example.com").await,
        1,
        "kept: still in its window"
    );
}

async fn an_item_keeps_every_field(backend: Backend) {
    let w = world(backend).await;
    let shelf = w.location("Shelf", None).await;
    let row = w
        .item("Cordless drill", t0(), |b| {
            b.description = Some("18 V, two batteries".into());
            b.location_id = Some(shelf);
            b.quantity = Some(2);
            b.tags = Some(vec!["Tools".into(), "power".into()]);
            b.brand = Some("Bosch".into());
            b.model = Some("GSR 18V-55".into());
            b.serial_number = Some("SN-123".into());
            b.barcode = Some("4059952511737".into());
            b.purchase_date = Some("2024-05-31".parse::<Day>().unwrap());
            b.purchase_price = Some(usd(12_999));
            b.purchased_from = Some("Hardware store".into());
            b.estimated_value = Some(usd(9_000));
            b.warranty_expires = Some("2027-05-31".parse::<Day>().unwrap());
            b.notes = Some("Blue case, garage".into());
            b.custom_fields = Some([("Voltage".to_string(), "18".to_string())].into());
        })
        .await;
    let stored = w.store.item(w.household, row.id).await.unwrap().unwrap();
    assert_eq!(stored, row);
    // Another household sees nothing.
    assert!(
        w.store
            .item(HouseholdId::new(), row.id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(w.store.item_owner(row.id).await.unwrap(), Some(w.household));
}

async fn the_sale_record_and_the_insurance_flags_are_kept_and_cleared(backend: Backend) {
    let w = world(backend).await;
    let row = w
        .item("Road bike", t0(), |b| {
            b.insured = Some(true);
            b.lifetime_warranty = Some(true);
            b.sold_to = Some("Neighbour Bob".into());
            b.sold_date = Some("2025-03-01".parse::<Day>().unwrap());
            b.sold_price = Some(usd(45_000));
            b.sold_notes = Some("Paid in cash, with the pump".into());
        })
        .await;
    let stored = w.store.item(w.household, row.id).await.unwrap().unwrap();
    assert_eq!(stored, row);
    assert!(stored.fields.insured && stored.fields.lifetime_warranty);
    assert_eq!(stored.fields.sold_price, Some(usd(45_000)));
    // Lists read the same columns.
    let listed = w
        .store
        .list_items(
            w.household,
            &ItemQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(listed, vec![row.clone()]);

    let mut cleared = row.clone();
    cleared.fields.insured = false;
    cleared.fields.lifetime_warranty = false;
    cleared.fields.sold_to = None;
    cleared.fields.sold_date = None;
    cleared.fields.sold_price = None;
    cleared.fields.sold_notes = None;
    cleared.version = 2;
    w.store
        .update_item(&cleared, 1, &w.activity(row.id, Action::Updated, t0()))
        .await
        .unwrap();
    let stored = w.store.item(w.household, row.id).await.unwrap().unwrap();
    assert_eq!(stored, cleared);
}

async fn a_stale_version_is_refused_and_nothing_changes(backend: Backend) {
    let w = world(backend).await;
    let row = w.item("Lamp", t0(), |_| {}).await;
    let mut first = row.clone();
    first.fields.name = "Desk lamp".into();
    first.version = 2;
    w.store
        .update_item(&first, 1, &w.activity(row.id, Action::Updated, t0()))
        .await
        .unwrap();
    let mut second = row.clone();
    second.fields.name = "Floor lamp".into();
    second.version = 2;
    let stale = w
        .store
        .update_item(&second, 1, &w.activity(row.id, Action::Updated, t0()))
        .await;
    assert!(matches!(stale, Err(StoreError::Stale)), "{stale:?}");
    let stored = w.store.item(w.household, row.id).await.unwrap().unwrap();
    assert_eq!(stored.fields.name, "Desk lamp");
    assert_eq!(stored.version, 2);
    // The refused edit left no trace in the history either.
    assert_eq!(w.store.history(w.household, row.id).await.unwrap().len(), 2);
}

async fn search_matches_substrings_of_every_searchable_field_regardless_of_case(backend: Backend) {
    let w = world(backend).await;
    w.item("Kettle", t0(), |b| b.brand = Some("Smeg".into()))
        .await;
    w.item("Toaster", t0(), |b| b.serial_number = Some("XK-99".into()))
        .await;
    w.item("Blender", t0(), |b| b.notes = Some("Ça marche bien".into()))
        .await;
    w.item("Mixer", t0(), |b| b.tags = Some(vec!["Kitchen".into()]))
        .await;
    w.item("Radio", t0(), |b| b.barcode = Some("0123456".into()))
        .await;
    w.item("100% wool rug", t0(), |_| {}).await;
    w.item("Tent", t0(), |b| b.sold_to = Some("Camping Club".into()))
        .await;
    w.item("Sofa", t0(), |b| {
        b.sold_notes = Some("Picked up by van".into())
    })
    .await;
    let search = |q: &str| ItemQuery {
        search: Some(q.to_lowercase()),
        ..Default::default()
    };
    assert_eq!(w.list(search("SMEG")).await, vec!["Kettle"]);
    assert_eq!(w.list(search("xk-9")).await, vec!["Toaster"]);
    assert_eq!(w.list(search("ÇA MARCHE")).await, vec!["Blender"]);
    assert_eq!(w.list(search("itch")).await, vec!["Mixer"]);
    assert_eq!(w.list(search("23456")).await, vec!["Radio"]);
    assert_eq!(w.list(search("camping")).await, vec!["Tent"]);
    assert_eq!(w.list(search("BY VAN")).await, vec!["Sofa"]);
    // Wildcard characters are plain text.
    assert_eq!(w.list(search("100%")).await, vec!["100% wool rug"]);
    assert_eq!(w.list(search("_")).await, Vec::<String>::new());
}

async fn paging_by_cursor_sees_every_item_once_while_new_items_arrive(backend: Backend) {
    let w = world(backend).await;
    for i in 0..25 {
        // Several items share a creation time: the id breaks the tie.
        w.item(
            &format!("Item {i:02}"),
            t0() + Duration::seconds(i / 3),
            |_| {},
        )
        .await;
    }
    for sort in [
        ItemSort::Newest,
        ItemSort::Oldest,
        ItemSort::Name,
        ItemSort::Updated,
    ] {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = w
                .store
                .list_items(
                    w.household,
                    &ItemQuery {
                        sort,
                        after: after.clone(),
                        limit: 7,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            if page.is_empty() {
                break;
            }
            // New items arrive while someone pages through the first 25.
            if seen.len() < 25 {
                w.item(
                    &format!("New {sort:?} {}", seen.len()),
                    OffsetDateTime::now_utc(),
                    |_| {},
                )
                .await;
            }
            after = page.last().map(|r| Cursor::after(r, sort));
            seen.extend(page.into_iter().map(|r| r.fields.name));
            assert!(seen.len() < 100, "{sort:?} never ends: {seen:?}");
        }
        let originals: Vec<&String> = seen.iter().filter(|n| n.starts_with("Item")).collect();
        assert_eq!(originals.len(), 25, "{sort:?}: {seen:?}");
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            seen.len(),
            "{sort:?} repeated an item: {seen:?}"
        );
        if sort == ItemSort::Name {
            let mut sorted = originals.clone();
            sorted.sort();
            assert_eq!(originals, sorted);
        }
        if sort == ItemSort::Oldest {
            assert_eq!(originals.first().map(|s| s.as_str()), Some("Item 00"));
        }
    }
}

async fn filters_by_location_and_tag_combine(backend: Backend) {
    let w = world(backend).await;
    let house = w.location("House", None).await;
    let garage = w.location("Garage", Some(house)).await;
    let shed = w.location("Shed", None).await;
    w.item("Saw", t0(), |b| {
        b.location_id = Some(garage);
        b.tags = Some(vec!["tools".into()]);
    })
    .await;
    w.item("Hammer", t0(), |b| {
        b.location_id = Some(shed);
        b.tags = Some(vec!["Tools".into()]);
    })
    .await;
    w.item("Sofa", t0(), |b| b.location_id = Some(house)).await;
    w.item("Loose", t0(), |_| {}).await;
    let mut names = w
        .list(ItemQuery {
            location_ids: Some(vec![house, garage]),
            ..Default::default()
        })
        .await;
    names.sort();
    assert_eq!(names, vec!["Saw", "Sofa"]);
    let mut tools = w
        .list(ItemQuery {
            tag: Some("tools".into()),
            ..Default::default()
        })
        .await;
    tools.sort();
    assert_eq!(tools, vec!["Hammer", "Saw"]);
    assert_eq!(
        w.list(ItemQuery {
            tag: Some("tools".into()),
            location_ids: Some(vec![shed]),
            ..Default::default()
        })
        .await,
        vec!["Hammer"]
    );
    assert_eq!(
        w.list(ItemQuery {
            unplaced: true,
            ..Default::default()
        })
        .await,
        vec!["Loose"]
    );
}

async fn a_location_with_items_or_children_cannot_be_deleted(backend: Backend) {
    let w = world(backend).await;
    let house = w.location("House", None).await;
    let attic = w.location("Attic", Some(house)).await;
    let box_ = w.item("Box", t0(), |b| b.location_id = Some(attic)).await;
    let err = w
        .store
        .delete_location(w.household, house)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("1 location")),
        "{err:?}"
    );
    let err = w
        .store
        .delete_location(w.household, attic)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("1 item")),
        "{err:?}"
    );
    // A trashed item no longer holds its location.
    w.trash(&box_).await;
    w.store.delete_location(w.household, attic).await.unwrap();
    w.store.delete_location(w.household, house).await.unwrap();
    assert!(w.store.locations(w.household).await.unwrap().is_empty());
    assert!(matches!(
        w.store.delete_location(w.household, house).await,
        Err(StoreError::NotFound)
    ));
}

async fn tags_count_only_live_items(backend: Backend) {
    let w = world(backend).await;
    w.item("A", t0(), |b| {
        b.tags = Some(vec!["Garden".into(), "tools".into()])
    })
    .await;
    let b = w
        .item("B", t0(), |b| b.tags = Some(vec!["garden".into()]))
        .await;
    w.item("C", t0(), |b| b.tags = Some(vec!["Winter".into()]))
        .await;
    w.trash(&b).await;
    let tags = w.store.tags(w.household).await.unwrap();
    let shown: Vec<(String, i64)> = tags.into_iter().map(|t| (t.name, t.item_count)).collect();
    assert_eq!(
        shown,
        vec![
            ("Garden".into(), 1),
            ("tools".into(), 1),
            ("Winter".into(), 1)
        ]
    );
}

async fn purging_the_trash_removes_items_their_tags_and_history(backend: Backend) {
    let w = world(backend).await;
    let mut trashed = Vec::new();
    for i in 0..5 {
        let row = w
            .item(&format!("Old {i}"), t0(), |b| {
                b.tags = Some(vec!["old".into()])
            })
            .await;
        w.trash(&row).await;
        trashed.push(row);
    }
    let keep = w
        .item("Keep", t0(), |b| b.tags = Some(vec!["old".into()]))
        .await;
    assert_eq!(
        w.store
            .purge_trash(w.household, None, 2)
            .await
            .unwrap()
            .items,
        2
    );
    assert_eq!(
        w.store
            .purge_trash(w.household, Some(keep.id), 10)
            .await
            .unwrap()
            .items,
        0
    );
    assert_eq!(
        w.store
            .purge_trash(w.household, None, 10)
            .await
            .unwrap()
            .items,
        3
    );
    assert_eq!(
        w.list(ItemQuery {
            trashed: true,
            sort: ItemSort::Deleted,
            ..Default::default()
        })
        .await
        .len(),
        0
    );
    assert!(
        w.store
            .history(w.household, trashed[0].id)
            .await
            .unwrap()
            .is_empty()
    );
    let tags = w.store.tags(w.household).await.unwrap();
    assert_eq!(tags.len(), 1);
    assert_eq!(tags[0].item_count, 1);
    assert!(w.store.item(w.household, keep.id).await.unwrap().is_some());
}

async fn history_lists_changes_newest_first_with_the_actor(backend: Backend) {
    let w = world(backend).await;
    let row = w.item("Bike", t0(), |_| {}).await;
    let mut next = row.clone();
    next.fields.brand = Some("Trek".into());
    next.version = 2;
    let later = t0() + Duration::minutes(5);
    w.store
        .update_item(
            &next,
            1,
            &ActivityRow::new(
                w.household,
                row.id,
                w.user,
                Action::Updated,
                vec!["brand".into()],
                later,
            ),
        )
        .await
        .unwrap();
    let history = w.store.history(w.household, row.id).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].action, Action::Updated);
    assert_eq!(history[0].fields, vec!["brand"]);
    assert_eq!(history[0].actor.name, "Ann");
    assert_eq!(history[1].action, Action::Created);
    assert!(
        w.store
            .history(HouseholdId::new(), row.id)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn stats_sum_values_by_location_and_tag(backend: Backend) {
    let w = world(backend).await;
    let garage = w.location("Garage", None).await;
    w.item("Car jack", t0(), |b| {
        b.location_id = Some(garage);
        b.estimated_value = Some(usd(5_000));
        b.tags = Some(vec!["car".into()]);
        b.quantity = Some(2);
    })
    .await;
    w.item("Tyres", t0(), |b| {
        b.location_id = Some(garage);
        b.estimated_value = Some(usd(40_000));
        b.tags = Some(vec!["car".into(), "winter".into()]);
    })
    .await;
    let gone = w
        .item("Gone", t0(), |b| b.estimated_value = Some(usd(1_000_000)))
        .await;
    w.trash(&gone).await;
    let stats = w.store.stats(w.household).await.unwrap();
    assert_eq!(stats.item_count, 2);
    assert_eq!(stats.total_quantity, 3);
    assert_eq!(stats.trashed_count, 1);
    assert_eq!(stats.total_value_minor, 45_000);
    assert_eq!(stats.by_location, vec![(Some(garage), 2, 45_000)]);
    let mut by_tag = stats.by_tag.clone();
    by_tag.sort();
    assert_eq!(
        by_tag,
        vec![("car".into(), 2, 45_000), ("winter".into(), 1, 40_000)]
    );
}

async fn search_entries_follow_changes_since_a_time(backend: Backend) {
    let w = world(backend).await;
    let old = w
        .item("Old radio", t0(), |b| b.tags = Some(vec!["Audio".into()]))
        .await;
    let later = t0() + Duration::hours(1);
    let new = w
        .item("New radio", later, |b| b.brand = Some("Sony".into()))
        .await;
    let all = w.store.search_entries(w.household, None).await.unwrap();
    assert_eq!(all.len(), 2);
    let entry = all.iter().find(|e| e.id == old.id).unwrap();
    assert_eq!(entry.text, "old radio\naudio");
    assert_eq!(entry.tags_lower, vec!["audio"]);
    assert!(!entry.trashed);
    let recent = w
        .store
        .search_entries(w.household, Some(t0()))
        .await
        .unwrap();
    assert_eq!(
        recent.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![new.id]
    );
    assert_eq!(recent[0].text, "new radio\nsony");
    w.trash(&old).await;
    // Trashing changes nothing searchable but is a change: it shows up as trashed.
    let trashed = w
        .store
        .search_entries(w.household, Some(t0() - Duration::seconds(1)))
        .await
        .unwrap();
    assert!(trashed.iter().any(|e| e.id == old.id && e.trashed));
    let rows = w
        .store
        .items_by_ids(w.household, &[old.id, new.id, ItemId::new()])
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert!(
        w.store
            .items_by_ids(HouseholdId::new(), &[old.id])
            .await
            .unwrap()
            .is_empty()
    );
}

async fn importing_writes_every_item_with_its_tags_and_history(backend: Backend) {
    let w = world(backend).await;
    let rows: Vec<ItemRow> = (0..30)
        .map(|i| ItemRow {
            id: ItemId::new(),
            household_id: w.household,
            fields: CreateItem {
                name: Some(format!("Crate {i}")),
                tags: Some(vec!["storage".into()]),
                ..Default::default()
            }
            .validate(&Currency::default())
            .unwrap(),
            version: 1,
            created_at: t0(),
            updated_at: t0(),
            deleted_at: None,
        })
        .collect();
    let activities: Vec<ActivityRow> = rows
        .iter()
        .map(|r| w.activity(r.id, Action::Created, t0()))
        .collect();
    w.store.import_items(&rows, &activities).await.unwrap();
    assert_eq!(w.store.tags(w.household).await.unwrap()[0].item_count, 30);
    assert_eq!(
        w.store
            .history(w.household, rows[7].id)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(w.list(ItemQuery::default()).await.len(), 30);
    let too_many = vec![rows[0].clone(); api::store::IMPORT_ROWS];
    let refused = w.store.import_items(&too_many, &[]).await;
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(w.list(ItemQuery::default()).await.len(), 30);
}

//! Sharing a household: invitations, members and roles, and what each role may do.

use axum::http::Method;
use serde_json::{Value, json};
use shared::{InviteId, Role};

use crate::helpers::{Backend, Person, TestApp, names, spawn_app};

crate::on_every_backend!(
    an_invited_person_joins_with_the_invitations_role,
    invitations_expire_run_out_and_can_be_revoked,
    the_last_owner_can_neither_leave_nor_be_demoted,
    every_route_answers_each_role_as_it_should,
);

/// Ann invites; `name` registers and accepts. Returns the new member, acting in Ann's
/// household.
pub(crate) async fn join(app: &TestApp, ann: &Person, name: &str, role: &str) -> Person {
    let invite = app
        .post(app.at(ann, "/invites"), ann, json!({"role": role}))
        .await;
    invite.assert_status(201);
    let code = invite.body["code"].as_str().unwrap().to_string();
    let other = app.register(name).await;
    app.post(format!("/api/v1/invites/{code}/accept"), &other, json!({}))
        .await
        .assert_status(200);
    Person {
        household: ann.household.clone(),
        ..other
    }
}

/// `owner` invites `person`, who has an account already and accepts. Returns `person`
/// acting in `owner`'s household.
pub(crate) async fn join_as(app: &TestApp, owner: &Person, person: &Person, role: &str) -> Person {
    let invite = app
        .post(app.at(owner, "/invites"), owner, json!({"role": role}))
        .await;
    invite.assert_status(201);
    let code = invite.body["code"].as_str().unwrap().to_string();
    app.post(format!("/api/v1/invites/{code}/accept"), person, json!({}))
        .await
        .assert_status(200);
    Person {
        household: owner.household.clone(),
        ..person.clone()
    }
}

async fn an_invited_person_joins_with_the_invitations_role(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let invite = app
        .post(
            app.at(&ann, "/invites"),
            &ann,
            json!({"role": "editor", "max_uses": 2}),
        )
        .await;
    invite.assert_status(201);
    let code = invite.body["code"].as_str().unwrap();
    assert!(code.len() >= 22, "128-bit codes: {code}");
    assert!(
        invite.body["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/invite/{code}"))
    );
    // Anyone holding the link sees what it offers, signed in or not.
    let preview = app
        .request(
            Method::GET,
            &format!("/api/v1/invites/{code}"),
            None,
            None,
            &[],
        )
        .await;
    preview.assert_status(200);
    assert_eq!(preview.body["household_name"], "My Home");
    assert_eq!(preview.body["role"], "editor");
    assert_eq!(preview.body["invited_by"], "Ann");
    let bob = app.register("Bob").await;
    let joined = app
        .post(format!("/api/v1/invites/{code}/accept"), &bob, json!({}))
        .await;
    joined.assert_status(200);
    assert_eq!(joined.body["household"]["id"], json!(ann.household));
    assert_eq!(joined.body["household"]["role"], "editor");
    // Accepting again changes nothing and uses nothing.
    app.post(format!("/api/v1/invites/{code}/accept"), &bob, json!({}))
        .await
        .assert_status(200);
    let me = app.get("/api/v1/me", &bob).await;
    let mut roles: Vec<&str> = me.body["households"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["role"].as_str().unwrap())
        .collect();
    roles.sort_unstable();
    assert_eq!(roles, vec!["editor", "owner"]);
    let members = app.get(app.at(&ann, "/members"), &ann).await;
    let listed: Vec<(&str, &str)> = members.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(listed, vec![("Ann", "owner"), ("Bob", "editor")]);
    let invites = app.get(app.at(&ann, "/invites"), &ann).await;
    assert_eq!(invites.body["items"][0]["uses"], 1);
    assert!(
        invites.body["items"][0].get("code").is_none(),
        "codes are shown once"
    );
    // Bob works in Ann's household now.
    let as_bob = Person {
        household: ann.household.clone(),
        ..bob
    };
    app.create_item(&as_bob, json!({"name": "Shared ladder"}))
        .await;
    assert_eq!(
        names(&app.get(app.at(&ann, "/items"), &ann).await.body),
        vec!["Shared ladder"]
    );
}

async fn invitations_expire_run_out_and_can_be_revoked(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let once = app
        .post(
            app.at(&ann, "/invites"),
            &ann,
            json!({"role": "viewer", "max_uses": 1}),
        )
        .await;
    let code = once.body["code"].as_str().unwrap().to_string();
    let bob = app.register("Bob").await;
    let cat = app.register("Cat").await;
    app.post(format!("/api/v1/invites/{code}/accept"), &bob, json!({}))
        .await
        .assert_status(200);
    let used_up = app
        .post(format!("/api/v1/invites/{code}/accept"), &cat, json!({}))
        .await;
    used_up.assert_status(409);
    app.request(
        Method::GET,
        &format!("/api/v1/invites/{code}"),
        None,
        None,
        &[],
    )
    .await
    .assert_status(409);
    assert!(
        used_up.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("used")
    );

    let open = app
        .post(app.at(&ann, "/invites"), &ann, json!({"role": "editor"}))
        .await;
    let (id, code) = (open.id(), open.body["code"].as_str().unwrap().to_string());
    app.delete(app.at(&ann, &format!("/invites/{id}")), &ann)
        .await
        .assert_status(204);
    let revoked = app
        .post(format!("/api/v1/invites/{code}/accept"), &cat, json!({}))
        .await;
    revoked.assert_status(404);
    app.request(
        Method::GET,
        &format!("/api/v1/invites/{code}"),
        None,
        None,
        &[],
    )
    .await
    .assert_status(404);
    app.delete(app.at(&ann, &format!("/invites/{id}")), &ann)
        .await
        .assert_status(404);

    // An invitation past its time.
    let code = "expired-invitation-code";
    let past = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    app.store
        .create_invite(&api::store::InviteRow {
            id: InviteId::new(),
            household_id: ann.household.parse().unwrap(),
            code_hash: api::auth::token_hash(code),
            role: Role::Editor,
            created_by: ann.user_id.parse().unwrap(),
            created_at: past - time::Duration::days(7),
            expires_at: past,
            max_uses: None,
            uses: 0,
        })
        .await
        .unwrap();
    let expired = app
        .post(format!("/api/v1/invites/{code}/accept"), &cat, json!({}))
        .await;
    expired.assert_status(409);
    assert!(
        expired.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    let me = app.get("/api/v1/me", &cat).await;
    assert_eq!(
        me.body["households"].as_array().unwrap().len(),
        1,
        "Cat joined nothing"
    );

    let bad = app
        .post(app.at(&ann, "/invites"), &ann, json!({"role": "king"}))
        .await;
    bad.assert_status(422);
    let bad = app
        .post(
            app.at(&ann, "/invites"),
            &ann,
            json!({"role": "viewer", "expires_in": 10}),
        )
        .await;
    bad.assert_status(422);
    assert!(bad.body["error"]["details"]["expires_in"].is_string());
}

async fn the_last_owner_can_neither_leave_nor_be_demoted(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let me = format!("/members/{}", ann.user_id);
    let demote = app
        .patch(app.at(&ann, &me), &ann, json!({"role": "editor"}))
        .await;
    demote.assert_status(409);
    app.delete(app.at(&ann, &me), &ann).await.assert_status(409);
    let bob = join(&app, &ann, "Bob", "editor").await;
    let bobs = format!("/members/{}", bob.user_id);
    app.patch(app.at(&ann, &bobs), &ann, json!({"role": "owner"}))
        .await
        .assert_status(204);
    // Now Ann may step down, and leave.
    app.patch(app.at(&ann, &me), &ann, json!({"role": "viewer"}))
        .await
        .assert_status(204);
    app.delete(app.at(&ann, &me), &ann).await.assert_status(204);
    app.get(app.at(&ann, "/items"), &ann)
        .await
        .assert_status(404);
    let members = app.get(app.at(&bob, "/members"), &bob).await;
    assert_eq!(members.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(members.body["items"][0]["role"], "owner");
}

async fn every_route_answers_each_role_as_it_should(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let editor = join(&app, &ann, "Ed", "editor").await;
    let viewer = join(&app, &ann, "Vi", "viewer").await;
    let outsider = Person {
        household: ann.household.clone(),
        ..app.register("Out").await
    };
    let location = app.create_location(&ann, "Hall", None).await;
    let item = app.create_item(&ann, json!({"name": "Clock"})).await.id();
    let trashed = app
        .create_item(&ann, json!({"name": "Old clock"}))
        .await
        .id();
    app.delete(app.at(&ann, &format!("/items/{trashed}")), &ann)
        .await
        .assert_status(204);
    let invite = app
        .post(app.at(&ann, "/invites"), &ann, json!({"role": "viewer"}))
        .await
        .id();

    // (method, path, body, owner, editor, viewer, outsider); bodies change nothing lasting.
    let base = format!("/api/v1/households/{}", ann.household);
    let viewer_id = viewer.user_id.clone();
    let routes: Vec<(Method, String, Value, [u16; 4])> = vec![
        (Method::GET, base.clone(), json!(null), [200, 200, 200, 404]),
        (
            Method::PATCH,
            base.clone(),
            json!({"name": "My Home"}),
            [200, 403, 403, 404],
        ),
        (
            Method::GET,
            format!("{base}/locations"),
            json!(null),
            [200, 200, 200, 404],
        ),
        (
            Method::GET,
            format!("{base}/locations/{location}"),
            json!(null),
            [200, 200, 200, 404],
        ),
        (
            Method::PATCH,
            format!("{base}/locations/{location}"),
            json!({"name": "Hall"}),
            [200, 200, 403, 404],
        ),
        (
            Method::GET,
            format!("{base}/items"),
            json!(null),
            [200, 200, 200, 404],
        ),
        (
            Method::GET,
            format!("{base}/items?q=clock"),
            json!(null),
            [200, 200, 200, 404],
        ),
        (
            Method::GET,
            format!("{base}/items/{item}"),
            json!(null),
            [200, 200, 200, 404],
        ),
        (
            Method::PATCH,
            format!("{base}/items/{item}"),
            json!({"name": "Clock"}),
            [200, 200, 403, 404],
        ),
        (
            Method::GET,
            format!("{base}/items/{item}/history"),
            json!(null),
            [200, 200, 200, 404],
        ),
        (
            Method::POST,
            format!("{base}/items/{item}/restore"),
            json!({}),
            [200, 200, 403, 404],
        ),
        (
            Method::GET,
            format!("{base}/trash"),
            json!(null),
            [200, 200, 200, 404],
        ),
        (
            Method::GET,
            format!("{base}/tags"),
            json!(null),
            [200, 200, 200, 404],
        ),
        (
            Method::GET,
            format!("{base}/stats"),
            json!(null),
            [200, 200, 200, 404],
        ),
        (
            Method::GET,
            format!("{base}/members"),
            json!(null),
            [200, 200, 200, 404],
        ),
        (
            Method::PATCH,
            format!("{base}/members/{viewer_id}"),
            json!({"role": "viewer"}),
            [204, 403, 403, 404],
        ),
        (
            Method::GET,
            format!("{base}/invites"),
            json!(null),
            [200, 403, 403, 404],
        ),
        (
            Method::DELETE,
            format!("{base}/invites/{}", uuid::Uuid::now_v7()),
            json!(null),
            [404, 403, 403, 404],
        ),
        (
            Method::POST,
            format!("{base}/locations"),
            json!({"name": ""}),
            [422, 422, 403, 404],
        ),
        (
            Method::POST,
            format!("{base}/items"),
            json!({"name": ""}),
            [422, 422, 403, 404],
        ),
        (
            Method::POST,
            format!("{base}/invites"),
            json!({"role": "viewer", "max_uses": 0}),
            [422, 403, 403, 404],
        ),
        (
            Method::DELETE,
            format!("{base}/trash/{}", uuid::Uuid::now_v7()),
            json!(null),
            [404, 404, 403, 404],
        ),
    ];
    for (method, path, body, expected) in &routes {
        for (who, want) in [&ann, &editor, &viewer, &outsider]
            .into_iter()
            .zip(expected)
        {
            let body = (!body.is_null()).then(|| body.clone());
            let response = app
                .request(method.clone(), path, Some(&who.token), body, &[])
                .await;
            assert_eq!(
                response.status.as_u16(),
                *want,
                "{method} {path} as {}: {}",
                who.email,
                response.body
            );
        }
    }
    // The deleting routes, last: a viewer and an outsider can't, an editor can.
    let deletes = [
        (format!("{base}/items/{item}"), [403, 404], 204),
        (format!("{base}/locations/{location}"), [403, 404], 204),
        (format!("{base}/trash"), [403, 404], 204),
    ];
    for (path, refused, allowed) in deletes {
        for (who, want) in [&viewer, &outsider].into_iter().zip(refused) {
            let response = app
                .request(Method::DELETE, &path, Some(&who.token), None, &[])
                .await;
            assert_eq!(
                response.status.as_u16(),
                want,
                "DELETE {path} as {}",
                who.email
            );
        }
        let response = app
            .request(Method::DELETE, &path, Some(&editor.token), None, &[])
            .await;
        assert_eq!(
            response.status.as_u16(),
            allowed,
            "DELETE {path} as editor: {}",
            response.body
        );
    }
    app.delete(format!("{base}/invites/{invite}"), &ann)
        .await
        .assert_status(204);
    // Viewers may leave; editors can't remove others.
    let vi = format!("{base}/members/{}", viewer.user_id);
    app.delete(vi.clone(), &editor).await.assert_status(403);
    app.delete(vi, &viewer).await.assert_status(204);
}

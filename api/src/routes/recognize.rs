//! `POST …/recognize`: what objects a household's photos show, as suggestions for new
//! items. Nothing is saved here: people apply, edit or merge a suggestion themselves.

use axum::Json;
use axum::extract::State;
use shared::{AttachmentStatus, ErrorBody, HouseholdId, Recognition, RecognizeRequest, UserId};
use time::OffsetDateTime;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::locations::Tree;
use crate::ai::{self, AiError, Photo};
use crate::auth::{self, CurrentUser};
use crate::blob::keys;
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppPath};
use crate::{AppState, Config};

/// The longest a person waits for suggestions.
const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(27);

/// Photos one request may send.
pub const MAX_PHOTOS: usize = 10;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(routes!(recognize))
}

#[utoipa::path(
    post,
    path = "/households/{hid}/recognize",
    tag = "Recognition",
    summary = "Recognise objects in photos",
    description = "Asks the AI what objects 1 to 10 of the household's photos show: one \
        suggestion per object, in the household's currency. Nothing is saved.",
    params(("hid" = HouseholdId, Path, description = "The household")),
    request_body = RecognizeRequest,
    responses(
        (status = 200, description = "What the photos show", body = Recognition),
        (status = 403, description = "Viewers can't use recognition", body = ErrorBody),
        (status = 422, description = "No photos, more than 10, or ones that are not ready \
            photos of this household", body = ErrorBody),
        (status = 429, description = "The household, the account or the server has used its \
            recognitions for today", body = ErrorBody),
        (status = 502, description = "The AI service failed or took too long", body = ErrorBody),
        (status = 503, description = "Recognition is not set up on this server, or the \
            database is unavailable", body = ErrorBody),
    ),
)]
async fn recognize(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
    AppJson(body): AppJson<RecognizeRequest>,
) -> ApiResult<Json<Recognition>> {
    let household = auth::editor(&state, &user, hid).await?;
    let Some(recognizer) = state.recognizer.clone() else {
        return Err(ApiError::Unavailable(
            "Photo recognition isn't set up on this server; add the item by hand.".into(),
        ));
    };
    let mut seen = std::collections::HashSet::new();
    let mut ids = body.attachment_ids;
    ids.retain(|id| seen.insert(*id));
    if ids.is_empty() || ids.len() > MAX_PHOTOS {
        return Err(ApiError::field(
            "attachment_ids",
            format!("name 1 to {MAX_PHOTOS} photos"),
        ));
    }
    let mut rows = Vec::with_capacity(ids.len());
    for id in &ids {
        let row = match state.store.attachment(hid, *id).await? {
            Some(row) if row.width.is_some() && row.status == AttachmentStatus::Ready => row,
            Some(row) if row.status == AttachmentStatus::Pending => {
                return Err(ApiError::field(
                    "attachment_ids",
                    format!("{id} hasn't finished uploading"),
                ));
            }
            _ => {
                return Err(ApiError::field(
                    "attachment_ids",
                    format!("{id} is not a photo of this household"),
                ));
            }
        };
        rows.push(row);
    }

    // Counted before asking, so parallel requests can't pass a limit; given back when
    // the service fails.
    let day = today();
    let n = ids.len() as i64;
    let budgets = Budget::all(&state.config, hid, user.user.id);
    let keys: Vec<String> = budgets.iter().map(|b| b.key.clone()).collect();
    let used = state.store.count_usage(&keys, &day, n).await?;
    if let Some((budget, _)) = budgets.iter().zip(&used).find(|(b, used)| **used > b.limit) {
        state.store.count_usage(&keys, &day, -n).await?;
        return Err(ApiError::RateLimited(budget.spent()));
    }
    let remaining_today = budgets
        .iter()
        .zip(&used)
        .map(|(b, used)| (b.limit - used).max(0))
        .min()
        .unwrap_or(0);

    let outcome = async {
        let mut photos = Vec::with_capacity(rows.len());
        for row in &rows {
            let bytes = state
                .blobs
                .get(&keys::file(hid, row.id), state.config.max_upload_bytes)
                .await
                .map_err(|e| anyhow::anyhow!("reading a photo to recognise: {e}"))?
                .ok_or_else(|| anyhow::anyhow!("the file of attachment {} is missing", row.id))?;
            let jpeg = state
                .decodes
                .run(move || ai::prepare_photo(&bytes))
                .await??;
            photos.push(Photo {
                attachment_id: row.id,
                jpeg,
            });
        }
        let tree = Tree::load(&state, hid).await?;
        let context = ai::Context {
            currency: household.currency.clone(),
            tags: state
                .store
                .tags(hid)
                .await?
                .into_iter()
                .map(|t| t.name)
                .collect(),
            locations: tree
                .rows()
                .map(|l| (l.id, tree.path(l.id).join(" › ")))
                .collect(),
        };
        // Inside API Gateway's 30 seconds, retries included.
        tokio::time::timeout(ANSWER_WITHIN, recognizer.recognize(&photos, &context))
            .await
            .unwrap_or(Err(AiError::Timeout))
            .map_err(|e| match e {
                AiError::Malformed(detail) => {
                    tracing::warn!(%detail, "photo recognition answered something unreadable");
                    ApiError::Upstream(AiError::Malformed(String::new()).to_string())
                }
                other => ApiError::Upstream(other.to_string()),
            })
    }
    .await;
    match outcome {
        Ok(suggestions) => Ok(Json(Recognition {
            suggestions,
            remaining_today,
        })),
        Err(e) => {
            if let Err(refund) = state.store.count_usage(&keys, &day, -n).await {
                tracing::warn!(error = %refund, "giving back a failed recognition's count failed");
            }
            Err(e)
        }
    }
}

/// One daily allowance of recognitions: the household's, the account's (over all its
/// households, which are free to make) and the whole server's.
struct Budget {
    key: String,
    limit: i64,
    scope: Scope,
}

enum Scope {
    Household,
    Account,
    Server,
}

impl Budget {
    fn all(config: &Config, hid: HouseholdId, user: UserId) -> [Budget; 3] {
        [
            Budget {
                key: format!("household:{hid}"),
                limit: config.ai_daily_limit,
                scope: Scope::Household,
            },
            Budget {
                key: format!("account:{user}"),
                limit: config.ai_account_daily_limit,
                scope: Scope::Account,
            },
            Budget {
                key: "global".into(),
                limit: config.ai_global_daily_limit,
                scope: Scope::Server,
            },
        ]
    }

    /// What to tell the person once it is used up.
    fn spent(&self) -> String {
        let limit = self.limit;
        match self.scope {
            Scope::Household => format!(
                "This household has used its {limit} photo recognitions for today; more tomorrow."
            ),
            Scope::Account => format!(
                "Your account has used its {limit} photo recognitions for today, counted over \
                 all your households; more tomorrow."
            ),
            Scope::Server => format!(
                "This server has made all the {limit} photo recognitions it allows in a day, \
                 for everyone; more tomorrow."
            ),
        }
    }
}

fn today() -> String {
    let d = OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

//! On AWS, jobs run in the jobs function: the same binary, invoked asynchronously (Lambda's
//! `Invoke` with `InvocationType=Event`) with an API Gateway-shaped event for
//! `POST /api/internal/jobs/{id}/run`, so the same runtime loop and router handle it. The
//! event names [`JOB_EVENT_API`] as its API id, which API Gateway never sends (its ids are
//! ten lower-case letters and digits); requests without it never reach the route, so the
//! route can't be called from outside.

use aws_sdk_lambda::config::{BehaviorVersion, Region};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use axum::extract::Request;
use lambda_http::request::RequestContext;
use shared::JobId;

/// The API id of a job event.
pub const JOB_EVENT_API: &str = "home-inventory-jobs";

/// Invokes the jobs function named by `JOBS_FUNCTION`.
pub struct Invoker {
    client: aws_sdk_lambda::Client,
    function: String,
}

impl Invoker {
    /// `None` without `JOBS_FUNCTION`: jobs run in this process.
    pub fn from_env() -> anyhow::Result<Option<Self>> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let Some(function) = var("JOBS_FUNCTION") else {
            return Ok(None);
        };
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let mut config = aws_sdk_lambda::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(
                var("AWS_REGION")
                    .or_else(|| var("AWS_DEFAULT_REGION"))
                    .unwrap_or_else(|| "us-east-1".into()),
            ))
            .credentials_provider(crate::store::dsql::env_credentials()?)
            .http_client(http);
        if let Some(endpoint) = var("AWS_ENDPOINT_URL_LAMBDA").or_else(|| var("AWS_ENDPOINT_URL")) {
            config = config.endpoint_url(endpoint);
        }
        Ok(Some(Self {
            client: aws_sdk_lambda::Client::from_conf(config.build()),
            function,
        }))
    }

    /// Queues one run of the job in the jobs function; Lambda retries a failed run twice.
    pub async fn invoke(&self, id: JobId) -> anyhow::Result<()> {
        self.client
            .invoke()
            .function_name(&self.function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(event(id).to_string()))
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{}", aws_sdk_lambda::error::DisplayErrorContext(e)))?;
        Ok(())
    }
}

/// The API Gateway HTTP API (payload 2.0) event that runs job `id`.
pub fn event(id: JobId) -> serde_json::Value {
    let path = format!("/api/internal/jobs/{id}/run");
    let now = time::OffsetDateTime::now_utc();
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "jobs.internal", "user-agent": "home-inventory-jobs"},
        "requestContext": {
            "accountId": "-",
            "apiId": JOB_EVENT_API,
            "domainName": "jobs.internal",
            "domainPrefix": "jobs",
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "home-inventory-jobs"
            },
            "requestId": id.to_string(),
            "routeKey": "$default",
            "stage": "$default",
            "time": "",
            "timeEpoch": now.unix_timestamp() * 1000
        },
        "isBase64Encoded": false
    })
}

/// Whether the request is a job event made by [`Invoker::invoke`] (never one from API
/// Gateway, nor one served directly).
pub fn is_job_event(request: &Request) -> bool {
    matches!(
        request.extensions().get::<RequestContext>(),
        Some(RequestContext::ApiGatewayV2(context))
            if context.apiid.as_deref() == Some(JOB_EVENT_API)
    )
}

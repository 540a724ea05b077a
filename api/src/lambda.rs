//! Running under AWS Lambda behind an API Gateway HTTP API (payload format 2.0): the same
//! router, handed to `lambda_http`, which turns events into requests (cookies, base64
//! bodies, query strings) and responses back into events.

use std::net::{IpAddr, SocketAddr};

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::Uri;
use axum::middleware::{self, Next};
use axum::response::Response;
use lambda_http::request::RequestContext;

/// Whether this process was started by the Lambda runtime.
pub fn is_lambda() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some()
}

/// Serves `router` to the Lambda Runtime API until the runtime stops the process.
pub async fn run(router: Router) -> anyhow::Result<()> {
    // Outside the router, so the rewritten path is the one that gets routed.
    let service = tower::ServiceBuilder::new()
        .map_request(|request: lambda_http::Request| request.map(axum::body::Body::new))
        .layer(middleware::from_fn(from_api_gateway))
        .service(router);
    lambda_http::run(service)
        .await
        .map_err(|e| anyhow::anyhow!("the Lambda runtime loop ended: {e}"))
}

/// Makes an API Gateway request look like one served directly: the client's address as
/// `ConnectInfo`, and the path without a named stage's prefix.
async fn from_api_gateway(mut request: Request, next: Next) -> Response {
    let context = request.extensions().get::<RequestContext>().cloned();
    if let Some(RequestContext::ApiGatewayV2(context)) = context {
        if let Some(ip) = context
            .http
            .source_ip
            .as_deref()
            .and_then(|ip| ip.parse::<IpAddr>().ok())
        {
            request
                .extensions_mut()
                .insert(ConnectInfo(SocketAddr::new(ip, 0)));
        }
        if let Some(stage) = context.stage.filter(|s| s != "$default")
            && let Some(uri) = strip_stage(request.uri(), &stage)
        {
            *request.uri_mut() = uri;
        }
    }
    next.run(request).await
}

fn strip_stage(uri: &Uri, stage: &str) -> Option<Uri> {
    let prefix = format!("/{stage}");
    let rest = uri.path().strip_prefix(&prefix)?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let path = if rest.is_empty() { "/" } else { rest };
    let path_and_query = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    path_and_query.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_stage_is_taken_off_the_path() {
        let uri: Uri = "/prod/api/v1/me?x=1".parse().unwrap();
        assert_eq!(strip_stage(&uri, "prod").unwrap(), "/api/v1/me?x=1");
        let other: Uri = "/production/api".parse().unwrap();
        assert!(strip_stage(&other, "prod").is_none());
    }
}

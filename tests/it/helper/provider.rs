//! A small real HTTP provider for helper tests: serves challenges, checks posted signatures.

use std::collections::HashMap;
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

use actix_web::{web, App, HttpResponse, HttpServer};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use mykey_connect::card::message::{signed_message, PROTOCOL_VERSION};
use mykey_connect::card::protocol::{
    CardErrorCode, ChallengeDocument, ChallengePurpose, ChallengeResponse,
};

use crate::softcard::fixture;

/// A response the provider checked and accepted.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub challenge_id: String,
    pub auth_certificate: Vec<u8>,
    pub sign_certificate: Option<Vec<u8>>,
}

#[derive(Default)]
struct State {
    challenges: HashMap<String, ChallengeDocument>,
    answered: Vec<String>,
    accepted: Vec<Accepted>,
    posts: usize,
    fetches: usize,
    refuse_with: Option<CardErrorCode>,
}

type Shared = Arc<Mutex<State>>;

pub struct TestProvider {
    pub base: String,
    state: Shared,
    server: actix_web::dev::ServerHandle,
    thread: Option<JoinHandle<()>>,
}

impl TestProvider {
    /// Starts the provider on 127.0.0.1 with a port the OS picks.
    pub fn start() -> TestProvider {
        let state = Shared::default();
        let (sender, receiver) = mpsc::channel();
        let shared = state.clone();
        let thread = std::thread::spawn(move || {
            let system = actix_web::rt::System::new();
            system.block_on(async move {
                let data = web::Data::new(shared);
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .route("/card/challenges/{id}", web::get().to(get_challenge))
                        .route(
                            "/card/challenges/{id}/response",
                            web::post().to(post_response),
                        )
                        .route(
                            "/broken",
                            web::post().to(|| async {
                                HttpResponse::InternalServerError().body("upstream exploded")
                            }),
                        )
                })
                .workers(1)
                .bind(("127.0.0.1", 0))
                .expect("bind port 0");
                let port = server.addrs()[0].port();
                let server = server.run();
                sender.send((port, server.handle())).expect("report port");
                server.await.expect("server runs");
            });
        });
        let (port, server) = receiver.recv().expect("server started");
        TestProvider {
            base: format!("http://127.0.0.1:{port}"),
            state,
            server,
            thread: Some(thread),
        }
    }

    /// A fresh challenge of this provider, changed by `edit`; returns its URL.
    pub fn challenge_with(
        &self,
        purpose: ChallengePurpose,
        edit: impl FnOnce(&mut ChallengeDocument),
    ) -> String {
        let mut state = self.state.lock().expect("state");
        let id = format!("challenge{}", state.challenges.len() + 1);
        let mut document = ChallengeDocument {
            version: PROTOCOL_VERSION.to_owned(),
            challenge_id: id.clone(),
            issuer: self.base.clone(),
            nonce: format!("nonce-of-{id}"),
            purpose,
            client_name: "Example City Library".to_owned(),
            match_code: "4821".to_owned(),
            expires_at: time::OffsetDateTime::now_utc().unix_timestamp() + 300,
            response_uri: format!("{}/card/challenges/{id}/response", self.base),
        };
        edit(&mut document);
        state.challenges.insert(id.clone(), document);
        format!("{}/card/challenges/{id}", self.base)
    }

    pub fn challenge(&self, purpose: ChallengePurpose) -> String {
        self.challenge_with(purpose, |_| {})
    }

    /// From now on, answers every posted response with this error.
    pub fn refuse_with(&self, code: CardErrorCode) {
        self.state.lock().expect("state").refuse_with = Some(code);
    }

    pub fn accepted(&self) -> Vec<Accepted> {
        self.state.lock().expect("state").accepted.clone()
    }

    /// How many times a challenge was fetched, known or not.
    pub fn fetches(&self) -> usize {
        self.state.lock().expect("state").fetches
    }

    /// How many responses were posted at all, accepted or not.
    pub fn posts(&self) -> usize {
        self.state.lock().expect("state").posts
    }
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        drop(self.server.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn error(code: CardErrorCode) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(code.http_status()).expect("status");
    HttpResponse::build(status).json(code.body())
}

async fn get_challenge(state: web::Data<Shared>, id: web::Path<String>) -> HttpResponse {
    let mut state = state.lock().expect("state");
    state.fetches += 1;
    match state.challenges.get(id.as_str()) {
        Some(document) => HttpResponse::Ok().json(document),
        None => error(CardErrorCode::UnknownChallenge),
    }
}

/// Spec §4, as far as a test needs: single use, then each signature against its certificate.
async fn post_response(
    state: web::Data<Shared>,
    id: web::Path<String>,
    body: web::Json<ChallengeResponse>,
) -> HttpResponse {
    let mut state = state.lock().expect("state");
    state.posts += 1;
    if let Some(code) = state.refuse_with {
        return error(code);
    }
    let Some(document) = state.challenges.get(id.as_str()).cloned() else {
        return error(CardErrorCode::UnknownChallenge);
    };
    if state.answered.contains(&document.challenge_id) {
        return error(CardErrorCode::ChallengeAlreadyUsed);
    }
    state.answered.push(document.challenge_id.clone());
    let message = signed_message(
        &document.issuer,
        &document.challenge_id,
        &document.nonce,
        document.purpose,
        document.expires_at,
    );
    let check = |certificate: &str, signature: &str| -> Option<Vec<u8>> {
        let certificate = STANDARD.decode(certificate).ok()?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        fixture::signature_verifies(&certificate, &message, &signature).then_some(certificate)
    };
    let Some(auth_certificate) = check(&body.auth_certificate, &body.auth_signature) else {
        return error(CardErrorCode::InvalidSignature);
    };
    let sign_certificate = match (&body.sign_certificate, &body.sign_signature) {
        (Some(certificate), Some(signature)) => match check(certificate, signature) {
            Some(certificate) => Some(certificate),
            None => return error(CardErrorCode::InvalidSignature),
        },
        (None, None) if document.purpose == ChallengePurpose::Login => None,
        _ => return error(CardErrorCode::InvalidRequest),
    };
    state.accepted.push(Accepted {
        challenge_id: document.challenge_id,
        auth_certificate,
        sign_certificate,
    });
    HttpResponse::Ok().json(serde_json::json!({"status": "accepted"}))
}

//! A software authenticator for the passkey tests: an ES256 (ECDSA P-256) key pair and what
//! a browser and a platform authenticator would answer to the server's WebAuthn options,
//! built by hand from the protocol (CBOR "none" attestation, authenticator data, client
//! data JSON, the signature over both). Its knobs make the answers an attacker would send.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const UP: u8 = 0x01;
const UV: u8 = 0x04;
const AT: u8 = 0x40;

/// One passkey in a software authenticator.
pub struct Authenticator {
    key: SigningKey,
    pub credential_id: Vec<u8>,
    /// The user handle the server gave at registration.
    user_handle: Vec<u8>,
    /// The signature counter: the next assertion says one more.
    pub sign_count: u32,
    /// The page's origin, which the browser writes into the client data.
    pub origin: String,
    /// The RP id whose hash goes into the authenticator data; `None`: the options' own.
    pub rp_id: Option<String>,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

/// CBOR head: major type and length.
fn head(major: u8, len: usize, out: &mut Vec<u8>) {
    let major = major << 5;
    match len {
        0..=23 => out.push(major | len as u8),
        24..=255 => out.extend([major | 24, len as u8]),
        _ => {
            out.push(major | 25);
            out.extend((len as u16).to_be_bytes());
        }
    }
}

fn text(s: &str, out: &mut Vec<u8>) {
    head(3, s.len(), out);
    out.extend(s.as_bytes());
}

fn bytes(b: &[u8], out: &mut Vec<u8>) {
    head(2, b.len(), out);
    out.extend(b);
}

impl Authenticator {
    /// A new key pair on a page at `origin`.
    pub fn new(origin: &str) -> Self {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).expect("randomness");
        secret[0] = secret[0].max(1);
        let key = SigningKey::from_slice(&secret).expect("a P-256 key");
        let mut credential_id = vec![0u8; 32];
        getrandom::fill(&mut credential_id).expect("randomness");
        Self {
            key,
            credential_id,
            user_handle: Vec::new(),
            sign_count: 0,
            origin: origin.to_string(),
            rp_id: None,
        }
    }

    /// The same passkey with another key pair (what signs is no longer what was registered).
    pub fn with_other_key(&self) -> Self {
        let mut other = Self::new(&self.origin);
        other.credential_id = self.credential_id.clone();
        other.user_handle = self.user_handle.clone();
        other.sign_count = self.sign_count;
        other
    }

    /// The COSE_Key of the public key (EC2, ES256, P-256), in CTAP2 canonical order.
    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_encoded_point(false);
        let mut out = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
        bytes(point.x().expect("x"), &mut out);
        out.push(0x22);
        bytes(point.y().expect("y"), &mut out);
        out
    }

    fn rp_id_hash(&self, options_rp_id: &str) -> Vec<u8> {
        let rp_id = self.rp_id.as_deref().unwrap_or(options_rp_id);
        Sha256::digest(rp_id.as_bytes()).to_vec()
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        json!({
            "type": kind,
            "challenge": challenge,
            "origin": self.origin,
            "crossOrigin": false,
        })
        .to_string()
        .into_bytes()
    }

    /// The answer to `options` (`PublicKeyCredentialCreationOptionsJSON`): the
    /// `RegistrationResponseJSON` of a new discoverable credential, user verified.
    pub fn register(&mut self, options: &Value) -> Value {
        let challenge = options["challenge"].as_str().expect("a challenge");
        self.register_for(options, challenge)
    }

    /// Like `register`, answering `challenge` whatever the options asked.
    pub fn register_for(&mut self, options: &Value, challenge: &str) -> Value {
        let rp_id = options["rp"]["id"].as_str().expect("an RP id");
        self.user_handle = unb64(options["user"]["id"].as_str().expect("a user handle"));
        let client_data = self.client_data("webauthn.create", challenge);
        let mut auth_data = self.rp_id_hash(rp_id);
        auth_data.push(UP | UV | AT);
        auth_data.extend(self.sign_count.to_be_bytes());
        auth_data.extend([0u8; 16]); // AAGUID: none
        auth_data.extend((self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&self.credential_id);
        auth_data.extend(self.cose_key());
        let mut attestation = vec![0xa3];
        text("fmt", &mut attestation);
        text("none", &mut attestation);
        text("attStmt", &mut attestation);
        attestation.push(0xa0);
        text("authData", &mut attestation);
        bytes(&auth_data, &mut attestation);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64(&client_data),
                "attestationObject": b64(&attestation),
                "transports": ["internal"],
            },
        })
    }

    /// The answer to `options` (`PublicKeyCredentialRequestOptionsJSON`): the
    /// `AuthenticationResponseJSON` of an assertion, user verified, the counter one higher.
    pub fn assert(&mut self, options: &Value) -> Value {
        let challenge = options["challenge"].as_str().expect("a challenge");
        self.assert_for(options, challenge)
    }

    /// Like `assert`, answering `challenge` whatever the options asked.
    pub fn assert_for(&mut self, options: &Value, challenge: &str) -> Value {
        let rp_id = options["rpId"].as_str().expect("an RP id");
        self.sign_count += 1;
        let client_data = self.client_data("webauthn.get", challenge);
        let mut auth_data = self.rp_id_hash(rp_id);
        auth_data.push(UP | UV);
        auth_data.extend(self.sign_count.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature: Signature = self.key.sign(&signed);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64(&client_data),
                "authenticatorData": b64(&auth_data),
                "signature": b64(signature.to_der().as_bytes()),
                "userHandle": b64(&self.user_handle),
            },
        })
    }
}

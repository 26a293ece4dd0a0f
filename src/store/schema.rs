//! The diesel schema, one for both backends (portable column types only).

diesel::table! {
    clients (id) {
        id -> Text,
        name -> Text,
        secret_hash -> Nullable<Text>,
        auth_method -> Text,
        redirect_uris -> Text,
        post_logout_redirect_uris -> Text,
        backchannel_logout_uri -> Nullable<Text>,
        backchannel_logout_session_required -> Bool,
        sector_identifier_uri -> Nullable<Text>,
        sector -> Text,
        jwks -> Nullable<Text>,
        jwks_uri -> Nullable<Text>,
        scopes -> Text,
        id_token_alg -> Text,
        logo_uri -> Nullable<Text>,
        tos_uri -> Nullable<Text>,
        policy_uri -> Nullable<Text>,
        allow_verified_claims -> Bool,
        enabled -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
        security_event_uri -> Nullable<Text>,
        profile -> Text,
        require_pushed_authorization_requests -> Bool,
        dpop_bound_access_tokens -> Bool,
        allow_shared_signals -> Bool,
    }
}

diesel::table! {
    persons (id) {
        id -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    bindings (id) {
        id -> Text,
        person_id -> Text,
        purpose -> Text,
        issuer_key_id -> Text,
        serial -> Text,
        not_after -> BigInt,
        status -> Text,
        revoked_reason -> Nullable<Text>,
        revoked_at -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    browser_sessions (id) {
        id -> Text,
        cookie_hash -> Text,
        person_id -> Text,
        auth_time -> BigInt,
        amr -> Text,
        acr -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        ended_at -> Nullable<BigInt>,
        end_reason -> Nullable<Text>,
    }
}

diesel::table! {
    client_sessions (id) {
        id -> Text,
        session_id -> Text,
        client_id -> Text,
        person_id -> Text,
        created_at -> BigInt,
        ended_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    auth_requests (id) {
        id -> Text,
        cookie_hash -> Text,
        client_id -> Text,
        redirect_uri -> Text,
        scope -> Text,
        state -> Nullable<Text>,
        nonce -> Nullable<Text>,
        code_challenge -> Text,
        prompt -> Nullable<Text>,
        max_age -> Nullable<BigInt>,
        ui_locales -> Nullable<Text>,
        acr_values -> Nullable<Text>,
        claims -> Nullable<Text>,
        session_id -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
        completed_at -> Nullable<BigInt>,
        verification_id -> Nullable<Text>,
    }
}

diesel::table! {
    challenges (id) {
        id -> Text,
        auth_request_id -> Text,
        nonce -> Text,
        purpose -> Text,
        match_code -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        state -> Text,
        error -> Nullable<Text>,
        person_id -> Nullable<Text>,
        answered_at -> Nullable<BigInt>,
        consumed_at -> Nullable<BigInt>,
        verification_id -> Nullable<Text>,
    }
}

diesel::table! {
    consents (person_id, client_id) {
        person_id -> Text,
        client_id -> Text,
        scope -> Text,
        granted_at -> BigInt,
    }
}

diesel::table! {
    authorization_codes (code_hash) {
        code_hash -> Text,
        grant_id -> Text,
        client_id -> Text,
        client_session_id -> Text,
        person_id -> Text,
        redirect_uri -> Text,
        scope -> Text,
        nonce -> Nullable<Text>,
        code_challenge -> Text,
        auth_time -> BigInt,
        amr -> Text,
        acr -> Text,
        claims -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
        redeemed_at -> Nullable<BigInt>,
        verification_id -> Nullable<Text>,
    }
}

diesel::table! {
    spent_codes (expires_at, code_hash) {
        expires_at -> BigInt,
        code_hash -> Text,
    }
}

diesel::table! {
    pushed_requests (uri_hash) {
        uri_hash -> Text,
        client_id -> Text,
        params -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    access_tokens (token_hash) {
        token_hash -> Text,
        grant_id -> Text,
        client_id -> Text,
        client_session_id -> Text,
        person_id -> Text,
        scope -> Text,
        claims -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        verification_id -> Nullable<Text>,
        dpop_jkt -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        grant_id -> Text,
        client_id -> Text,
        client_session_id -> Text,
        person_id -> Text,
        scope -> Text,
        claims -> Nullable<Text>,
        auth_time -> BigInt,
        amr -> Text,
        acr -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
        verification_id -> Nullable<Text>,
        dpop_jkt -> Nullable<Text>,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        alg -> Text,
        sealed_private_key -> Text,
        public_jwk -> Text,
        created_at -> BigInt,
        activate_at -> BigInt,
        retired_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    assertion_jtis (client_id, jti) {
        client_id -> Text,
        jti -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    dpop_proofs (jkt, jti) {
        jkt -> Text,
        jti -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    provider_secrets (name) {
        name -> Text,
        sealed_value -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    code_keys (generation) {
        generation -> BigInt,
        sealed_key -> Text,
        created_at -> BigInt,
        activate_at -> BigInt,
    }
}

diesel::table! {
    crls (root_key_id) {
        root_key_id -> Text,
        purpose -> Text,
        crl_number -> Text,
        this_update -> BigInt,
        next_update -> BigInt,
        entry_count -> BigInt,
        sha256 -> Text,
        der -> Binary,
        source -> Text,
        imported_at -> BigInt,
    }
}

diesel::table! {
    crl_imports (id) {
        id -> Text,
        sha256 -> Text,
        root_key_id -> Nullable<Text>,
        crl_number -> Nullable<Text>,
        this_update -> Nullable<BigInt>,
        next_update -> Nullable<BigInt>,
        entry_count -> Nullable<BigInt>,
        newly_revoked -> BigInt,
        no_longer_listed -> BigInt,
        terminated -> BigInt,
        source -> Text,
        outcome -> Text,
        error -> Nullable<Text>,
        imported_at -> BigInt,
    }
}

diesel::table! {
    crl_fetches (url) {
        url -> Text,
        etag -> Nullable<Text>,
        last_modified -> Nullable<Text>,
        fetched_at -> BigInt,
        status -> Text,
    }
}

diesel::table! {
    linkages (id) {
        id -> Text,
        purpose -> Text,
        old_issuer_key_id -> Text,
        old_serial -> Text,
        new_issuer_key_id -> Text,
        new_serial -> Text,
        linked_at -> BigInt,
        imported_at -> BigInt,
        person_id -> Nullable<Text>,
    }
}

diesel::table! {
    terminations (id) {
        id -> Text,
        person_id -> Text,
        binding_id -> Text,
        root_key_id -> Text,
        serial -> Text,
        reason -> Text,
        revoked_at -> BigInt,
        crl_number -> Text,
        sessions_ended -> BigInt,
        terminated_at -> BigInt,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        kind -> Text,
        client_id -> Text,
        target_uri -> Text,
        client_session_id -> Nullable<Text>,
        person_id -> Text,
        jti -> Text,
        event -> Text,
        created_at -> BigInt,
        next_attempt_at -> BigInt,
        locked_until -> Nullable<BigInt>,
        attempts -> Integer,
        status -> Text,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<BigInt>,
        stream_id -> Nullable<Text>,
    }
}

diesel::table! {
    ssf_streams (id) {
        id -> Text,
        client_id -> Text,
        delivery_method -> Text,
        endpoint_url -> Nullable<Text>,
        authorization_header -> Nullable<Text>,
        events_requested -> Text,
        events_delivered -> Text,
        description -> Nullable<Text>,
        status -> Text,
        status_reason -> Nullable<Text>,
        verification_requested_at -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    leases (name) {
        name -> Text,
        holder -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    verifications (id) {
        id -> Text,
        person_id -> Text,
        sign_binding_id -> Text,
        sealed_facts -> Text,
        verified_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    fact_releases (id) {
        id -> Text,
        verification_id -> Text,
        sign_binding_id -> Text,
        person_id -> Text,
        client_id -> Text,
        released_at -> BigInt,
    }
}

diesel::table! {
    admin_accounts (id) {
        id -> Text,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        totp_secret -> Nullable<Text>,
        totp_pending -> Nullable<Text>,
        totp_last_step -> Nullable<BigInt>,
        failed_logins -> Integer,
        locked_until -> Nullable<BigInt>,
        disabled -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    admin_sessions (id) {
        id -> Text,
        token_hash -> Text,
        account_id -> Text,
        created_at -> BigInt,
        last_seen_at -> BigInt,
        expires_at -> BigInt,
        ended_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    admin_login_failures (id) {
        id -> Text,
        address -> Text,
        at -> BigInt,
    }
}

diesel::table! {
    admin_api_keys (id) {
        id -> Text,
        name -> Text,
        key_hash -> Text,
        role -> Text,
        created_by -> Text,
        created_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    person_merges (source_id) {
        source_id -> Text,
        target_id -> Text,
        reason -> Text,
        merged_by -> Text,
        merged_at -> BigInt,
    }
}

diesel::table! {
    audit_inbox (id) {
        id -> BigInt,
        time -> BigInt,
        kind -> Text,
        actor -> Text,
        client_id -> Nullable<Text>,
        person_id -> Nullable<Text>,
        data -> Text,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        time -> BigInt,
        kind -> Text,
        actor -> Text,
        client_id -> Nullable<Text>,
        person_id -> Nullable<Text>,
        data -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    audit_checkpoints (through_seq) {
        through_seq -> BigInt,
        last_hash -> Text,
        created_at -> BigInt,
        jws -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    clients,
    persons,
    bindings,
    browser_sessions,
    client_sessions,
    auth_requests,
    challenges,
    consents,
    authorization_codes,
    spent_codes,
    pushed_requests,
    access_tokens,
    refresh_tokens,
    signing_keys,
    assertion_jtis,
    dpop_proofs,
    provider_secrets,
    code_keys,
    crls,
    crl_imports,
    crl_fetches,
    linkages,
    terminations,
    outbox,
    ssf_streams,
    leases,
    verifications,
    fact_releases,
    admin_accounts,
    admin_sessions,
    admin_login_failures,
    admin_api_keys,
    person_merges,
    audit_inbox,
    audit_log,
    audit_checkpoints,
);

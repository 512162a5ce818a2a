package io.switchboard.router.email;

import io.switchboard.contract.Channel;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.router.support.Fixtures;

import java.time.Instant;
import java.util.Map;

/** Email fixtures (fixtures/email, see SOURCES.md) as the adapter would publish them. */
final class EmailFixtures {

    static final Instant RECEIVED = Instant.parse("2025-01-01T00:00:00Z");

    static InboundEnvelope envelope(String file) {
        return envelope(Fixtures.bytes("email/" + file));
    }

    static InboundEnvelope envelope(byte[] raw) {
        return InboundEnvelope.ofBytes("email:default:test:" + Integer.toHexString(java.util.Arrays.hashCode(raw)),
                Channel.EMAIL, "default", Map.of("mailbox", "INBOX"), RECEIVED, "email:default:x", "message/rfc822", raw);
    }

    private EmailFixtures() {
    }
}

package io.switchboard.router.support;

import io.switchboard.contract.Channel;
import io.switchboard.contract.InboundEnvelope;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;

/** Fixture files from the inbox-contract test-jar (origins and licences in fixtures/SOURCES.md). */
public final class Fixtures {

    public static byte[] bytes(String path) {
        try (InputStream in = Fixtures.class.getResourceAsStream("/fixtures/" + path)) {
            if (in == null) {
                throw new IllegalArgumentException("no fixture " + path);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String text(String path) {
        String s = new String(bytes(path), StandardCharsets.UTF_8);
        return s.startsWith("\uFEFF") ? s.substring(1) : s;
    }

    public static InboundEnvelope telegram(String file) {
        return InboundEnvelope.ofText("telegram:default:" + file, Channel.TELEGRAM, "default", Map.of(),
                Instant.parse("2025-01-01T00:00:00Z"), "telegram:default:x", "application/json", text("telegram/" + file));
    }

    private Fixtures() {
    }
}

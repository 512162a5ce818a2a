package io.switchboard.api.files;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;

/**
 * Signed, expiring download links for uploaded files (ADR 0150): adapters fetch a reply's files
 * without a user session. The signature is HMAC-SHA256 over {@code ref + "\n" + expires} (epoch
 * seconds) with a secret from the environment; checking it is constant-time.
 */
@Component
public class FileLinks {

    private static final Logger log = LoggerFactory.getLogger(FileLinks.class);
    /** The public path of a signed download; {ref} is the upload's ref. */
    public static final String PATH = "/api/files/signed/";

    private final byte[] secret;
    private final FilesProperties properties;
    private final Environment env;
    private final Clock clock;

    FileLinks(FilesProperties properties, Environment env, ObjectProvider<Clock> clock) {
        this.properties = properties;
        this.env = env;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
        if (properties.urlSecret() == null || properties.urlSecret().isBlank()) {
            byte[] random = new byte[32];
            new SecureRandom().nextBytes(random);
            this.secret = random;
            log.warn("INBOX_FILE_URL_SECRET is not set: signed file links are valid in this process only "
                    + "(set it, the same on every inbox-api instance, so links survive restarts)");
        } else {
            this.secret = properties.urlSecret().getBytes(StandardCharsets.UTF_8);
        }
    }

    /** A link to the upload valid for the configured time from now. */
    public String url(String ref) {
        long expires = clock.instant().plus(properties.urlTtl()).getEpochSecond();
        return base() + PATH + URLEncoder.encode(ref, StandardCharsets.UTF_8) + "?expires=" + expires
                + "&signature=" + signature(ref, expires);
    }

    /** Why a link is refused, or null when its signature is right and it has not expired. */
    String problem(String ref, String expires, String signature) {
        if (expires == null || signature == null || !expires.matches("\\d{1,12}")) {
            return "the link is not signed";
        }
        long at = Long.parseLong(expires);
        byte[] expected = signature(ref, at).getBytes(StandardCharsets.US_ASCII);
        if (!MessageDigest.isEqual(expected, signature.getBytes(StandardCharsets.US_ASCII))) {
            return "the link's signature is wrong";
        }
        if (clock.instant().isAfter(Instant.ofEpochSecond(at))) {
            return "the link has expired";
        }
        return null;
    }

    String signature(String ref, long expires) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return Base64.getUrlEncoder().withoutPadding()
                    .encodeToString(mac.doFinal((ref + "\n" + expires).getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    private String base() {
        if (properties.publicUrl() != null && !properties.publicUrl().isBlank()) {
            return properties.publicUrl().trim().replaceAll("/+$", "");
        }
        String port = env.getProperty("local.server.port", env.getProperty("server.port", "8080"));
        return "http://localhost:" + port;
    }
}

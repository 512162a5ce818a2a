package io.switchboard.api.files;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Positive;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

import java.time.Duration;

/**
 * Agents' uploads and the signed links adapters fetch them by ({@code switchboard.files.*}, ADR 0150).
 *
 * @param maxUploadBytes largest file an agent may upload (default 20 MB)
 * @param urlSecret      HMAC-SHA256 key of the signed download links (INBOX_FILE_URL_SECRET); every inbox-api
 *                       instance must share it; when unset, a random key is made at start, valid in this process only
 * @param publicUrl      base URL adapters reach inbox-api at (INBOX_PUBLIC_URL; default http://localhost:&lt;server port&gt;)
 * @param urlTtl         how long a signed link stays valid (INBOX_FILE_URL_TTL, ISO-8601, default P1D): long enough
 *                       for an adapter that was down to catch up, short enough that a leaked link dies
 */
@Validated
@ConfigurationProperties("switchboard.files")
public record FilesProperties(@Positive @Max(104_857_600) long maxUploadBytes, String urlSecret, String publicUrl,
                              Duration urlTtl) {

    public FilesProperties {
        maxUploadBytes = maxUploadBytes <= 0 ? 20L * 1024 * 1024 : maxUploadBytes;
        urlTtl = urlTtl == null || urlTtl.isNegative() || urlTtl.isZero() ? Duration.ofDays(1) : urlTtl;
    }
}

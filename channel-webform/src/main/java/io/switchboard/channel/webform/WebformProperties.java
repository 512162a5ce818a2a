package io.switchboard.channel.webform;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * The contact form ({@code switchboard.webform.*}).
 *
 * @param enabled            serve the form and accept submissions (WEBFORM_ENABLED, default true)
 * @param account            the channel account submissions are recorded under (default "default")
 * @param maxAttachments     most files in one submission (default 5)
 * @param maxFileBytes       largest single file in bytes (default 5 MiB)
 * @param maxTotalBytes      largest sum of the files of one submission in bytes (default 10 MiB; they travel inline through Kafka)
 * @param allowedExtensions  file types accepted: screenshots, logs and PDF (default png, jpg, jpeg, gif, webp, txt, log, pdf)
 * @param rateLimit          most submissions (valid or not) from one client address per {@code rateWindow} (default 10)
 * @param rateWindow         the rate limit's window (default 10 minutes)
 * @param trustForwardedFor  take the client address from X-Forwarded-For (only behind a proxy that sets it; default false)
 * @param frameAncestors     CSP frame-ancestors of the embeddable page /contact/embed (default *: any site may embed it)
 * @param relayReplies       hand agents' replies to form conversations to the email channel (default true)
 * @param replyEmailAccount  the email channel account replies leave from (default "default")
 */
@Validated
@ConfigurationProperties("switchboard.webform")
public record WebformProperties(Boolean enabled, String account, int maxAttachments, long maxFileBytes, long maxTotalBytes,
                                List<String> allowedExtensions, int rateLimit, Duration rateWindow, boolean trustForwardedFor,
                                String frameAncestors, Boolean relayReplies, String replyEmailAccount) {

    public WebformProperties {
        enabled = enabled == null ? Boolean.TRUE : enabled;
        account = account == null || account.isBlank() ? "default" : account.trim();
        maxAttachments = maxAttachments <= 0 ? 5 : maxAttachments;
        maxFileBytes = maxFileBytes <= 0 ? 5L << 20 : maxFileBytes;
        maxTotalBytes = maxTotalBytes <= 0 ? 10L << 20 : maxTotalBytes;
        allowedExtensions = allowedExtensions == null || allowedExtensions.isEmpty()
                ? List.of("png", "jpg", "jpeg", "gif", "webp", "txt", "log", "pdf")
                : allowedExtensions.stream().map(e -> e.trim().toLowerCase(Locale.ROOT).replaceFirst("^\\.", "")).toList();
        rateLimit = rateLimit <= 0 ? 10 : rateLimit;
        rateWindow = rateWindow == null || rateWindow.isNegative() || rateWindow.isZero() ? Duration.ofMinutes(10) : rateWindow;
        frameAncestors = frameAncestors == null || frameAncestors.isBlank() ? "*" : frameAncestors.trim();
        relayReplies = relayReplies == null ? Boolean.TRUE : relayReplies;
        replyEmailAccount = replyEmailAccount == null || replyEmailAccount.isBlank() ? "default" : replyEmailAccount.trim();
    }
}

package io.switchboard.channel.social.facebook;

import jakarta.validation.Valid;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Facebook pages (Messenger) ({@code switchboard.facebook.*}). The account {@code default} comes
 * from the FACEBOOK_* environment variables; more pages are added as
 * {@code switchboard.facebook.accounts.<name>.app-secret=...} in an external configuration file.
 *
 * @param accounts     pages by account name; an account without an app secret is off
 * @param sendAttempts how many times a reply is tried on transient errors (rate limits 4/32/613, HTTP 5xx, I/O) before it fails
 */
@Validated
@ConfigurationProperties("switchboard.facebook")
public record FacebookProperties(@Valid Map<String, Account> accounts, int sendAttempts) {

    public FacebookProperties {
        accounts = accounts == null ? Map.of() : new LinkedHashMap<>(accounts);
        sendAttempts = sendAttempts <= 0 ? 5 : sendAttempts;
    }

    /** The account if it is configured (has an app secret to check signatures with). */
    public Account account(String name) {
        Account a = name == null ? null : accounts.get(name);
        return a != null && a.enabled() ? a : null;
    }

    /**
     * One page.
     *
     * @param verifyToken      the token Facebook echoes in the subscription verification GET (FACEBOOK_VERIFY_TOKEN)
     * @param appSecret        the app secret X-Hub-Signature-256 is made with (FACEBOOK_APP_SECRET); never logged
     * @param pageAccessToken  the page token for the Send API (FACEBOOK_PAGE_ACCESS_TOKEN); never logged
     * @param graphUrl         Graph API base URL (FACEBOOK_GRAPH_URL, default https://graph.facebook.com/v21.0)
     * @param outsideWindowTag a message tag (e.g. HUMAN_AGENT) to retry with when a reply falls outside the
     *                         24-hour window (FACEBOOK_MESSAGE_TAG); empty = such replies fail with a clear reason
     */
    public record Account(String verifyToken, String appSecret, String pageAccessToken, URI graphUrl, String outsideWindowTag) {

        public boolean enabled() {
            return appSecret != null && !appSecret.isBlank();
        }

        public boolean canSend() {
            return pageAccessToken != null && !pageAccessToken.isBlank();
        }

        public URI baseUrl() {
            return graphUrl == null || graphUrl.toString().isBlank() ? URI.create("https://graph.facebook.com/v21.0") : graphUrl;
        }

        @Override
        public String toString() {
            return "Account[graphUrl=" + baseUrl() + ", tag=" + outsideWindowTag + "]";
        }
    }
}

package io.switchboard.channel.social.vk;

import jakarta.validation.Valid;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * VK communities ({@code switchboard.vk.*}). The account {@code default} comes from the VK_*
 * environment variables; more communities are added as
 * {@code switchboard.vk.accounts.<name>.group-id=...} in an external configuration file.
 *
 * @param accounts     communities by account name; an account without a group id is off
 * @param sendAttempts how many times a reply is tried on transient errors (VK 6, 9, 10, HTTP 5xx, I/O) before it fails
 */
@Validated
@ConfigurationProperties("switchboard.vk")
public record VkProperties(@Valid Map<String, Account> accounts, int sendAttempts) {

    public VkProperties {
        accounts = accounts == null ? Map.of() : new LinkedHashMap<>(accounts);
        sendAttempts = sendAttempts <= 0 ? 5 : sendAttempts;
    }

    /** The account if it is configured (has a group id and either a confirmation code or an access token). */
    public Account account(String name) {
        Account a = name == null ? null : accounts.get(name);
        return a != null && a.enabled() ? a : null;
    }

    /**
     * One community.
     *
     * @param groupId          the community id (VK_GROUP_ID), checked against every Callback API event's group_id
     * @param confirmationCode the string the Callback API expects back for "confirmation" (VK_CONFIRMATION_CODE)
     * @param secret           the Callback API "secret key" every event must carry (VK_SECRET); never logged
     * @param accessToken      a community token with the messages (and wall) permission (VK_ACCESS_TOKEN); never logged
     * @param apiUrl           API base URL (VK_API_URL, default https://api.vk.com/method)
     * @param apiVersion       the API version sent with every call (default 5.199)
     * @param mode             callback or longpoll (VK_MODE; default callback when a confirmation code is set, else longpoll)
     * @param longPollWait     how long one Bots Long Poll request waits for events (default 25 s, VK allows up to 90)
     */
    public record Account(String groupId, String confirmationCode, String secret, String accessToken, URI apiUrl,
                          String apiVersion, String mode, Duration longPollWait) {

        public boolean enabled() {
            return present(groupId) && (present(confirmationCode) || present(accessToken));
        }

        public boolean callback() {
            if (present(mode)) {
                return mode.trim().equalsIgnoreCase("callback");
            }
            return present(confirmationCode);
        }

        public boolean canSend() {
            return present(accessToken);
        }

        public URI baseUrl() {
            return apiUrl == null || apiUrl.toString().isBlank() ? URI.create("https://api.vk.com/method") : apiUrl;
        }

        public String version() {
            return present(apiVersion) ? apiVersion.trim() : "5.199";
        }

        public Duration waitTime() {
            return longPollWait == null || longPollWait.isNegative() || longPollWait.isZero() ? Duration.ofSeconds(25) : longPollWait;
        }

        private static boolean present(String s) {
            return s != null && !s.isBlank();
        }

        @Override
        public String toString() {
            return "Account[groupId=" + groupId + ", mode=" + (callback() ? "callback" : "longpoll") + ", apiUrl=" + baseUrl() + "]";
        }
    }
}

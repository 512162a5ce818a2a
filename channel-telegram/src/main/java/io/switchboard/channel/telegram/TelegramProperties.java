package io.switchboard.channel.telegram;

import jakarta.validation.Valid;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Telegram bots ({@code switchboard.telegram.*}). The account {@code default} comes from the
 * TELEGRAM_* environment variables; more bots are added as
 * {@code switchboard.telegram.accounts.<name>.bot-token=...} in an external configuration file.
 *
 * @param accounts     bots by account name; an account without a bot token is off
 * @param sendAttempts how many times a reply is tried on transient errors (429, 5xx, I/O) before it fails
 * @param pollTimeoutSeconds long-polling timeout of getUpdates in polling mode (Telegram allows up to 50)
 * @param maxFileBytes  files customers send are fetched and stored up to this size (default 10 MB); larger ones
 *                      stay as metadata. At most {@link #MAX_FILE_BYTES}: getFile serves up to 20 MB, but the bytes
 *                      travel base64-encoded in one Kafka record of at most 16 MB
 */
@Validated
@ConfigurationProperties("switchboard.telegram")
public record TelegramProperties(@Valid Map<String, Account> accounts, int sendAttempts, int pollTimeoutSeconds,
                                 long maxFileBytes) {

    /** getFile serves files up to 20 MB (https://core.telegram.org/bots/api#getfile). */
    public static final long BOT_API_DOWNLOAD_LIMIT = 20L * 1024 * 1024;
    /**
     * The largest file that fits one record of the inbound topic (max.message.bytes 16 MB) once base64
     * encoded (4/3 of its size), with room for the envelope: 12 MB less 64 KB. Below the Bot API's limit.
     */
    public static final long MAX_FILE_BYTES = Math.min(BOT_API_DOWNLOAD_LIMIT, 12L * 1024 * 1024 - 64 * 1024);

    public TelegramProperties {
        accounts = accounts == null ? Map.of() : new LinkedHashMap<>(accounts);
        sendAttempts = sendAttempts <= 0 ? 5 : sendAttempts;
        pollTimeoutSeconds = pollTimeoutSeconds <= 0 ? 25 : Math.min(pollTimeoutSeconds, 50);
        maxFileBytes = maxFileBytes <= 0 ? 10L * 1024 * 1024 : Math.min(maxFileBytes, MAX_FILE_BYTES);
    }

    /** The account if it is configured (has a bot token). */
    public Account account(String name) {
        Account a = accounts.get(name);
        return a != null && a.enabled() ? a : null;
    }

    /**
     * One bot.
     *
     * @param botToken      the Bot API token (TELEGRAM_BOT_TOKEN); never logged
     * @param webhookSecret the secret Telegram sends in X-Telegram-Bot-Api-Secret-Token (TELEGRAM_WEBHOOK_SECRET)
     * @param apiUrl        Bot API base URL (TELEGRAM_API_URL, default https://api.telegram.org)
     * @param mode          webhook or polling (TELEGRAM_MODE; default webhook when a secret is set)
     * @param webhookUrl    public URL of our webhook for this bot (TELEGRAM_WEBHOOK_URL); when set, it is
     *                      registered with setWebhook at start; when unset, register it yourself
     * @param groups        which messages in groups become conversations: {@code mentions} (default: those
     *                      mentioning the bot or replying to it), {@code all}, or {@code none} (TELEGRAM_GROUPS)
     */
    public record Account(String botToken, String webhookSecret, URI apiUrl, String mode, String webhookUrl, String groups) {

        public String groupPolicy() {
            return groups == null || groups.isBlank() ? "mentions" : groups.trim().toLowerCase(java.util.Locale.ROOT);
        }

        public boolean enabled() {
            return botToken != null && !botToken.isBlank();
        }

        public boolean webhook() {
            if (mode != null && !mode.isBlank()) {
                return mode.trim().equalsIgnoreCase("webhook");
            }
            return webhookSecret != null && !webhookSecret.isBlank();
        }

        public URI baseUrl() {
            return apiUrl == null ? URI.create("https://api.telegram.org") : apiUrl;
        }

        @Override
        public String toString() {
            return "Account[mode=" + (webhook() ? "webhook" : "polling") + ", apiUrl=" + baseUrl() + "]";
        }
    }
}

package io.switchboard.channel.telegram;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * In webhook mode, tells Telegram where to deliver (setWebhook) when a public URL is configured
 * (TELEGRAM_WEBHOOK_URL), with our secret and the update types we use, keeping pending updates
 * (drop_pending_updates=false: nothing sent while we were away is lost).
 */
@Component
class TelegramWebhookRegistrar {

    private static final Logger log = LoggerFactory.getLogger(TelegramWebhookRegistrar.class);

    private final TelegramProperties properties;
    private final TelegramClient client;
    private final Map<String, String> status = new java.util.concurrent.ConcurrentHashMap<>();

    TelegramWebhookRegistrar(TelegramProperties properties, TelegramClient client) {
        this.properties = properties;
        this.client = client;
    }

    @EventListener(ApplicationReadyEvent.class)
    void register() {
        properties.accounts().forEach((name, account) -> {
            if (!account.enabled() || !account.webhook() || account.webhookUrl() == null || account.webhookUrl().isBlank()) {
                return;
            }
            Map<String, Object> params = new LinkedHashMap<>();
            params.put("url", account.webhookUrl());
            params.put("secret_token", account.webhookSecret());
            params.put("allowed_updates", TelegramUpdates.ALLOWED);
            params.put("drop_pending_updates", false);
            // https://core.telegram.org/bots/api#setwebhook
            TelegramClient.Result result = client.call(account, "setWebhook", params);
            if (result.ok()) {
                status.put(name, "registered");
                log.info("Telegram account {}: webhook registered", name);
            } else {
                String reason = result.description() == null ? "HTTP " + result.httpStatus() : result.description();
                status.put(name, "setWebhook failed: " + reason);
                log.warn("Telegram account {}: setWebhook failed: {}", name, reason);
            }
        });
    }

    /** Per webhook bot with a webhook URL: {@code registered} or {@code setWebhook failed: <Telegram's reason>}. */
    Map<String, String> status() {
        return Map.copyOf(status);
    }
}

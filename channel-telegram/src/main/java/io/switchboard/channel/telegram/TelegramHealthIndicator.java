package io.switchboard.channel.telegram;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Each bot's intake under {@code /actuator/health} (component {@code telegramAdapter}): for a polling
 * bot its state ({@code receiving}, {@code conflict} when getUpdates answers 409, {@code token refused},
 * {@code rate limited}, {@code failing}) with Telegram's description and since when; for a webhook bot
 * whether setWebhook succeeded. A bot in trouble does not take the product DOWN (agents keep working
 * on the other channels and bots), as with the email adapter; these details show it.
 */
@Component("telegramAdapterHealthIndicator")
class TelegramHealthIndicator implements HealthIndicator {

    private final TelegramProperties properties;
    private final TelegramPoller poller;
    private final TelegramWebhookRegistrar registrar;

    TelegramHealthIndicator(TelegramProperties properties, TelegramPoller poller, TelegramWebhookRegistrar registrar) {
        this.properties = properties;
        this.poller = poller;
        this.registrar = registrar;
    }

    @Override
    public Health health() {
        Map<String, TelegramPoller.Status> polling = poller.status();
        Map<String, String> webhooks = registrar.status();
        Map<String, Object> bots = new LinkedHashMap<>();
        properties.accounts().forEach((name, account) -> {
            if (!account.enabled()) {
                return;
            }
            Map<String, Object> d = new LinkedHashMap<>();
            if (account.webhook()) {
                d.put("mode", "webhook");
                d.put("registration", webhooks.getOrDefault(name,
                        account.webhookUrl() == null || account.webhookUrl().isBlank() ? "not registered by us (no webhook URL set)" : "pending"));
            } else {
                d.put("mode", "polling");
                TelegramPoller.Status s = polling.get(name);
                d.put("state", s == null ? "not started" : s.state());
                if (s != null && s.detail() != null) {
                    d.put("detail", s.detail());
                }
                if (s != null) {
                    d.put("since", s.since().toString());
                }
            }
            bots.put(name, d);
        });
        return Health.up().withDetail("bots", bots).build();
    }
}

package io.switchboard.channel.telegram;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What each bot is (getMe: its username), learned once at start, so that group messages can be
 * matched against mentions of the bot. Unknown until getMe answered; the normalizer then accepts
 * any group message that mentions someone.
 */
@Component
class TelegramBots {

    private static final Logger log = LoggerFactory.getLogger(TelegramBots.class);

    private final TelegramProperties properties;
    private final TelegramClient client;
    private final Map<String, String> usernames = new ConcurrentHashMap<>();

    TelegramBots(TelegramProperties properties, TelegramClient client) {
        this.properties = properties;
        this.client = client;
    }

    @EventListener(ApplicationReadyEvent.class)
    void learnAll() {
        properties.accounts().forEach((name, account) -> {
            if (account.enabled() && account.webhook()) {
                learn(name, account);
            }
        });
    }

    void learn(String name, TelegramProperties.Account account) {
        if (usernames.containsKey(name)) {
            return;
        }
        TelegramClient.Result me = client.call(account, "getMe", Map.of());
        if (me.ok() && me.result() != null && me.result().hasNonNull("username")) {
            usernames.put(name, me.result().path("username").asString());
        } else {
            log.warn("Telegram account {}: getMe failed ({}); group mentions are matched loosely until it answers", name,
                    me.description() == null ? "HTTP " + me.httpStatus() : me.description());
        }
    }

    /** The envelope context for this account's updates. */
    Map<String, String> context(String name) {
        Map<String, String> context = new LinkedHashMap<>();
        TelegramProperties.Account account = properties.account(name);
        context.put("group_policy", account == null ? "mentions" : account.groupPolicy());
        String username = usernames.get(name);
        if (username != null) {
            context.put("bot_username", username);
        }
        return context;
    }
}

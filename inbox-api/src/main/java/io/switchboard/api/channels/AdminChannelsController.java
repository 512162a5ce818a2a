package io.switchboard.api.channels;

import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.ResolvableType;
import org.springframework.core.env.Environment;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code GET /api/admin/channels}: the channel accounts this process is configured with, per channel,
 * by name and mode only. Read from the configuration ({@code switchboard.<channel>.accounts.<name>.*},
 * which the env variables of INTERFACE.md fill for the account {@code default}), not from the adapters'
 * beans: inbox-api depends on no adapter, and in the distributed form the adapters run elsewhere with
 * the same variables. Tokens, secrets, passwords and URLs (which may carry credentials) never appear;
 * only whether the credential that turns an account on is present decides that it is listed.
 */
@RestController
class AdminChannelsController {

    private final Environment environment;

    AdminChannelsController(Environment environment) {
        this.environment = environment;
    }

    record Account(String name, String mode) {
    }

    record Channel(String channel, List<Account> accounts) {
    }

    @GetMapping("/api/admin/channels")
    List<Channel> channels() {
        List<Channel> out = new ArrayList<>();
        for (String channel : List.of("email", "telegram", "vk", "facebook", "phone", "webform")) {
            List<Account> accounts = new ArrayList<>();
            if (channel.equals("webform")) {
                if (environment.getProperty("switchboard.webform.enabled", Boolean.class,
                        environment.getProperty("WEBFORM_ENABLED", Boolean.class, true))) {
                    accounts.add(new Account("default", "form"));
                }
            } else {
                accounts(channel).forEach((name, settings) -> {
                    String mode = mode(channel, settings);
                    if (mode != null) {
                        accounts.add(new Account(name, mode));
                    }
                });
            }
            out.add(new Channel(channel, accounts));
        }
        return out;
    }

    private static final Bindable<Map<String, Map<String, String>>> ACCOUNTS = Bindable.of(ResolvableType.forClassWithGenerics(
            Map.class, ResolvableType.forClass(String.class), ResolvableType.forClassWithGenerics(Map.class, String.class, String.class)));

    private Map<String, Map<String, String>> accounts(String channel) {
        return Binder.get(environment).bind("switchboard." + channel + ".accounts", ACCOUNTS).map(TreeMap::new).orElseGet(TreeMap::new);
    }

    /** How an account works, from its non-secret settings; null when the credential that turns it on is missing. */
    static String mode(String channel, Map<String, String> s) {
        return switch (channel) {
            // the adapters' own rules (TelegramProperties, VkProperties): an explicit mode, else by the webhook secret
            case "telegram" -> !present(s, "bot-token") ? null
                    : present(s, "mode") ? (s.get("mode").trim().equalsIgnoreCase("webhook") ? "webhook" : "polling")
                    : present(s, "webhook-secret") ? "webhook" : "polling";
            case "vk" -> !present(s, "group-id") && !present(s, "access-token") ? null
                    : present(s, "mode") ? (s.get("mode").trim().equalsIgnoreCase("callback") ? "callback" : "longpoll")
                    : present(s, "confirmation-code") ? "callback" : "longpoll";
            case "facebook" -> present(s, "page-access-token") || present(s, "verify-token") ? "webhook" : null;
            case "email" -> present(s, "imap-url") && present(s, "smtp-url") ? "imap+smtp"
                    : present(s, "imap-url") ? "imap" : present(s, "smtp-url") ? "smtp" : null;
            case "phone" -> present(s, "webhook-token") || present(s, "zadarma-secret") || present(s, "mango-api-key")
                    || present(s, "twilio-auth-token") ? "webhook" : null;
            default -> null;
        };
    }

    private static boolean present(Map<String, String> s, String key) {
        String v = s.get(key);
        return v != null && !v.isBlank();
    }
}

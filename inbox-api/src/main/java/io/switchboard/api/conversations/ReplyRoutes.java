package io.switchboard.api.conversations;

import io.switchboard.api.ApiException;
import io.switchboard.store.Contact;
import io.switchboard.store.Conversation;
import io.switchboard.store.Identity;
import io.switchboard.store.InboxStore;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where a reply "via" another identity of the conversation's contact goes (issue 9): the channel
 * of that identity, an account of that channel able to send, and the identity as recipient.
 * The conversation stays the same.
 *
 * <p>The sending account of a channel other than the conversation's is
 * {@code switchboard.replies.via-accounts.<channel>}, else {@code default} when that channel's
 * sending credentials are set in the environment (INTERFACE.md), else the reply is refused.
 */
@Component
class ReplyRoutes {

    /** A resolved route: channel and account to send from, recipient address, and the identity key used. */
    record Route(String channel, String account, Map<String, String> recipient, String identity) {
    }

    /** Channels replies can go out through, with the environment variable that enables their default account. */
    private static final Map<String, String> SENDING_CREDENTIAL = Map.of("email", "EMAIL_SMTP_URL",
            "telegram", "TELEGRAM_BOT_TOKEN", "vk", "VK_ACCESS_TOKEN", "facebook", "FACEBOOK_PAGE_ACCESS_TOKEN");

    private final InboxStore store;
    private final Environment env;

    ReplyRoutes(InboxStore store, Environment env) {
        this.store = store;
        this.env = env;
    }

    /**
     * @param via {@code {"channel":"email","identity":"anna@example.org"}}, or an identity id
     *            ({@code "email:anna@example.org"}) as a string or as {@code {"identity": ...}}
     * @throws ApiException 400 with the reason when the identity is not the contact's or cannot be sent to
     */
    Route resolve(Conversation c, Object via) {
        String channel = null;
        String identity;
        if (via instanceof String s) {
            identity = s;
        } else if (via instanceof Map<?, ?> m && (m.get("channel") == null || m.get("channel") instanceof String)
                && m.get("identity") instanceof String s) {
            channel = (String) m.get("channel");
            identity = s;
        } else {
            throw ApiException.badRequest("via must be {\"channel\":..,\"identity\":..} or an identity id like \"email:anna@example.org\"");
        }
        identity = identity.trim();
        if (channel != null && !channel.isBlank()) {
            channel = channel.trim().toLowerCase(Locale.ROOT);
            if (identity.toLowerCase(Locale.ROOT).startsWith(channel + ":")) {
                identity = identity.substring(channel.length() + 1);
            }
        } else {
            int colon = identity.indexOf(':');
            if (colon <= 0) {
                throw ApiException.badRequest("via.identity must be an identity id like \"email:anna@example.org\" when no channel is given");
            }
            channel = identity.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            identity = identity.substring(colon + 1);
        }
        if (!SENDING_CREDENTIAL.containsKey(channel)) {
            throw ApiException.badRequest("replies cannot go out through " + channel + "; choose one of "
                    + List.copyOf(new java.util.TreeSet<>(SENDING_CREDENTIAL.keySet())));
        }
        if (identity.isBlank()) {
            throw ApiException.badRequest("via.identity is empty");
        }
        Identity wanted = new Identity(channel, identity);
        Contact contact = c.contactId() == null ? null : store.contact(c.contactId()).orElse(null);
        if (contact == null || contact.identities().stream().noneMatch(i -> i.key().equals(wanted.key()))) {
            throw ApiException.badRequest("the identity " + wanted.key() + " is not one of this conversation's contact");
        }
        String account = accountFor(c, channel);
        return new Route(channel, account, recipient(channel, wanted.value()), wanted.key());
    }

    private String accountFor(Conversation c, String channel) {
        if (channel.equals(c.channel())) {
            return c.account();
        }
        String configured = env.getProperty("switchboard.replies.via-accounts." + channel);
        if (configured != null && !configured.isBlank()) {
            return configured.trim();
        }
        String credential = env.getProperty(SENDING_CREDENTIAL.get(channel));
        if (credential != null && !credential.isBlank()) {
            return "default";
        }
        throw ApiException.badRequest("no " + channel + " account is configured for sending: set "
                + SENDING_CREDENTIAL.get(channel) + " or switchboard.replies.via-accounts." + channel);
    }

    /** The recipient map each channel's adapter reads (chat_id, email, peer_id, psid). */
    static Map<String, String> recipient(String channel, String value) {
        return switch (channel) {
            case "telegram" -> Map.of("chat_id", value);
            case "email" -> Map.of("email", value);
            case "vk" -> Map.of("peer_id", value);
            case "facebook" -> Map.of("psid", value);
            default -> throw new IllegalArgumentException(channel);
        };
    }
}

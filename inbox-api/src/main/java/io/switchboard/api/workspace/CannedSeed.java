package io.switchboard.api.workspace;

import io.switchboard.api.workspace.CannedResponses.Canned;

import java.util.List;

/** Answers to the support FAQ's frequent requests (the seed document), in Russian and English. */
final class CannedSeed {

    private static final List<String> PHONE = List.of("телефон", "номер", "phone", "number", "sms", "смс");
    private static final List<String> TWO_FA = List.of("2fa", "двухфактор", "двух фактор", "аутентификатор", "authenticator",
            "two-factor", "two factor", "otp", "одноразов", "код подтвержд");
    private static final List<String> QUOTA = List.of("квот", "лимит", "увелич", "quota", "limit", "increase", "raise");
    private static final List<String> DELETE = List.of("удалить", "удаление", "удалите", "delete", "close my account", "remove my account");
    private static final List<String> BONUS = List.of("бонус", "балл", "приветств", "bonus", "points", "credit", "welcome");
    private static final List<String> EMAILS = List.of("письм", "почт", "не приход", "спам", "email", "e-mail", "mail",
            "spam", "receive", "mx");

    static final List<Canned> ANSWERS = List.of(
            new Canned("seed:phone-change:ru", "phone-change", "ru", "Смена номера телефона",
                    "Здравствуйте! Номер телефона можно сменить в личном кабинете: Профиль → Безопасность → Телефон. "
                            + "Если доступа к старому номеру нет, пришлите, пожалуйста, логин аккаунта, название проекта и "
                            + "скан документа владельца аккаунта: после проверки мы сменим номер сами.", PHONE, true),
            new Canned("seed:phone-change:en", "phone-change", "en", "Changing the phone number",
                    "Hello! You can change your phone number in the console: Profile → Security → Phone. If you no longer "
                            + "have the old number, please send us your account login, project name and a scan of the account "
                            + "owner's ID: once we have verified ownership we will change it for you.", PHONE, true),
            new Canned("seed:lost-2fa:ru", "lost-2fa", "ru", "Потерян доступ к двухфакторной аутентификации",
                    "Здравствуйте! Мы можем отключить двухфакторную аутентификацию только после подтверждения, что вы "
                            + "владелец аккаунта. Пришлите, пожалуйста, логин, название проекта и фото документа владельца "
                            + "рядом с лицом. После проверки вход по паролю будет восстановлен, а 2FA можно будет настроить заново.",
                    TWO_FA, true),
            new Canned("seed:lost-2fa:en", "lost-2fa", "en", "Lost two-factor authenticator",
                    "Hello! We can only switch off two-factor authentication after verifying that you own the account. "
                            + "Please send your login, project name and a photo of the owner's ID next to your face. Once "
                            + "verified, you can sign in with your password and set up 2FA again.", TWO_FA, true),
            new Canned("seed:quota:ru", "quota", "ru", "Увеличение квот",
                    "Здравствуйте! Чтобы увеличить квоты, укажите, пожалуйста, проект, регион, ресурс (vCPU, RAM, диски, "
                            + "IP-адреса) и нужное значение. Заявки обычно рассматриваются в течение рабочего дня.", QUOTA, true),
            new Canned("seed:quota:en", "quota", "en", "Quota increase",
                    "Hello! To raise a quota, please tell us the project, region, resource (vCPU, RAM, disks, IP addresses) "
                            + "and the value you need. Requests are usually reviewed within one business day.", QUOTA, true),
            new Canned("seed:account-deletion:ru", "account-deletion", "ru", "Удаление аккаунта",
                    "Здравствуйте! Удалить аккаунт может только его владелец. Сначала удалите, пожалуйста, все ресурсы "
                            + "(серверы, диски, резервные копии), затем напишите нам с адреса владельца и укажите логин. "
                            + "Удаление необратимо.", DELETE, true),
            new Canned("seed:account-deletion:en", "account-deletion", "en", "Deleting the account",
                    "Hello! Only the account owner can delete an account. Please first remove all resources (servers, disks, "
                            + "backups), then write to us from the owner's address with your login. Deletion cannot be undone.",
                    DELETE, true),
            new Canned("seed:bonus:ru", "bonus", "ru", "Не начислены бонусные баллы",
                    "Здравствуйте! Приветственный бонус начисляется после подтверждения телефона и первой оплаты, обычно "
                            + "в течение 24 часов. Если прошло больше суток, пришлите логин и дату регистрации: мы проверим "
                            + "и начислим баллы вручную.", BONUS, true),
            new Canned("seed:bonus:en", "bonus", "en", "Missing bonus points",
                    "Hello! The welcome bonus is credited after the phone number is confirmed and the first payment is made, "
                            + "usually within 24 hours. If it has been longer, send us your login and sign-up date and we will "
                            + "check and credit it by hand.", BONUS, true),
            new Canned("seed:missing-emails:ru", "missing-emails", "ru", "Не приходят письма",
                    "Здравствуйте! Проверьте, пожалуйста, папку «Спам» и добавьте наш адрес в контакты. Если почта на "
                            + "вашем домене, проверьте MX-записи и фильтры сервера. Мы видим статус доставки каждого письма "
                            + "и при необходимости отправим ответ повторно.", EMAILS, true),
            new Canned("seed:missing-emails:en", "missing-emails", "en", "Not receiving our emails",
                    "Hello! Please check your spam folder and add our address to your contacts. If the mailbox is on your own "
                            + "domain, check its MX records and server filters. We can see whether each email was delivered "
                            + "and will resend if needed.", EMAILS, true));

    private CannedSeed() {
    }
}
